from __future__ import annotations

from quart import Blueprint
from quart_schema import document_response

from .. import __version__
from .schemas import Health

blueprint = Blueprint("health", __name__)


@blueprint.get("/health")
@document_response(Health)
async def health():
    """Liveness check, no authentication."""
    return {"status": "ok", "version": __version__}
