"""Photo uploads from the wearable camera or any LAN device."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import document_response, security_scheme

from ..services.errors import BadRequest
from .deps import BinaryBody, blocking, current_user, hub
from .schemas import AuthError, Error, UploadResult

blueprint = Blueprint("images", __name__, url_prefix="/api/v1")

IMAGE_BODY = BinaryBody(
    ("application/octet-stream", "image/*"),
    "The raw bytes of one photo (JPEG, PNG, WebP, GIF, BMP or TIFF), at most the upload limit (20 MiB unless configured otherwise; larger: 413)",
)


@blueprint.post("/upload_image")
@security_scheme([{"bearer": []}])
@IMAGE_BODY.document
@document_response(UploadResult)
@document_response(Error, 400)
@document_response(AuthError, 401)
@document_response(Error, 413)
@document_response(Error, 415)
async def upload_image():
    """Find faces in a raw image, recognize contacts, keep unknown faces."""
    user_id = await current_user()  # before the body: strangers cannot make the hub wait for 20 MiB
    data = await IMAGE_BODY.read()
    if not data:
        raise BadRequest("Invalid image stream")
    return await blocking(hub().uploads.process, user_id, data)
