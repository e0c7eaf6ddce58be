"""Photo uploads from the wearable camera or any LAN device."""

from __future__ import annotations

from quart import Blueprint, request
from quart_schema import document_response, security_scheme

from ..services.errors import BadRequest, ServiceError
from .deps import blocking, current_user, hub
from .schemas import AuthError, Error, UploadResult

blueprint = Blueprint("images", __name__, url_prefix="/api/v1")


class UnsupportedMediaType(ServiceError):
    status = 415


def check_content_type() -> None:
    mimetype = (request.mimetype or "").lower()
    if mimetype and mimetype != "application/octet-stream" and not mimetype.startswith("image/"):
        raise UnsupportedMediaType(
            f"Content-Type {mimetype} is not accepted: send the raw image as application/octet-stream or image/*"
        )


@blueprint.post("/upload_image")
@security_scheme([{"bearer": []}])
@document_response(UploadResult)
@document_response(Error, 400)
@document_response(AuthError, 401)
@document_response(Error, 413)
@document_response(Error, 415)
async def upload_image():
    """Find faces in a raw image, recognize contacts, keep unknown faces."""
    user_id = await current_user()
    check_content_type()
    data = await request.get_data(as_text=False)
    if not data:
        raise BadRequest("Invalid image stream")
    return await blocking(hub().uploads.process, user_id, data)
