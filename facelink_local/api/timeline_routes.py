"""The timeline of unknown people met."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import document_response, security_scheme

from .deps import blocking, current_user, hub
from .schemas import AuthError

blueprint = Blueprint("timeline", __name__, url_prefix="/api/v1")


@blueprint.get("/pull_timeline")
@security_scheme([{"bearer": []}])
@document_response(dict[str, list[str]])
@document_response(AuthError, 401)
async def pull_timeline():
    """Drop expired faces, cluster the rest: {cluster_id: [ISO-8601 UTC timestamps]}."""
    user_id = await current_user()
    return await blocking(hub().timeline.pull, user_id)
