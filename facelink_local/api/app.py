"""`create_app(hub)`: the Quart application serving api-v1."""

from __future__ import annotations

import asyncio
import logging

from quart import Quart
from quart_schema import QuartSchema

from .. import __version__
from ..hub import Hub
from . import auth_routes, contact_routes, health_routes, image_routes, timeline_routes, unread_bodies
from .errors import register_error_handlers
from .openapi import FaceLinkOpenAPI

log = logging.getLogger(__name__)


def create_app(hub: Hub) -> Quart:
    app = Quart("facelink_local")
    app.config.update(
        MAX_CONTENT_LENGTH=hub.settings.max_upload_bytes,
        BODY_TIMEOUT=hub.settings.body_timeout_s,  # a body still arriving after this answers 408
        RESPONSE_TIMEOUT=120,
    )
    app.extensions["facelink_hub"] = hub
    QuartSchema(
        app,
        info={"title": "FaceLink Local API", "version": __version__},
        security_schemes={"bearer": {"type": "http", "scheme": "bearer", "bearer_format": "JWT"}},
        swagger_ui_path=None, redoc_ui_path=None, scalar_ui_path=None,  # no CDN assets offline
        openapi_provider_class=FaceLinkOpenAPI,
    )
    app.json.sort_keys = False  # answers keep the contract's key order ("message" first)
    register_error_handlers(app)
    unread_bodies.register(app)
    for blueprint in (health_routes.blueprint, auth_routes.blueprint, contact_routes.blueprint,
                      image_routes.blueprint, timeline_routes.blueprint):
        app.register_blueprint(blueprint)

    @app.before_serving
    async def load_models() -> None:
        await asyncio.to_thread(hub.warm_up)
        await asyncio.to_thread(hub.start_background_work)

    return app
