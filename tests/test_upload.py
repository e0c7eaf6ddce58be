"""upload_image: content types, limits, broken images, and every edge photo."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from conftest import PASSWORD
from facelink_local.faces.engine import box_before_turns
from facelink_local.faces.schemas import Box

pytestmark = pytest.mark.model


@pytest.fixture
async def auth(client):
    response = await client.post("/api/v1/register", json={"username": "ann", "password": PASSWORD})
    return {"Authorization": f"Bearer {(await response.get_json())['access_token']}"}


def png(width=32, height=32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (120, 90, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


async def upload(client, auth, data: bytes, content_type: str | None = "application/octet-stream"):
    headers = dict(auth)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return await client.post("/api/v1/upload_image", data=data, headers=headers)


@pytest.mark.parametrize("content_type", [None, "application/octet-stream", "image/png", "image/jpeg",
                                          "image/anything"])
async def test_accepted_content_types(client, auth, content_type):
    response = await upload(client, auth, png(), content_type)
    assert response.status_code == 200
    assert await response.get_json() == {"message": "Image uploaded successfully", "faces": []}


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data; boundary=x",
                                          "application/x-www-form-urlencoded"])
async def test_other_content_types_answer_415(client, auth, content_type):
    response = await upload(client, auth, png(), content_type)
    assert response.status_code == 415
    assert "error" in await response.get_json()


async def test_body_over_20_mib_answers_413(client, auth):
    response = await upload(client, auth, b"\xff" * (20 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert "error" in await response.get_json()


async def test_decompression_bomb_is_refused_from_the_header(client, auth):
    # A valid PNG header claiming 60000 x 60000 pixels, with almost no data.
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))
    response = await upload(client, auth, bomb)
    assert response.status_code == 400
    assert await response.get_json() == {"error": "Invalid image stream"}


async def test_upload_needs_a_token(client):
    response = await client.post("/api/v1/upload_image", data=png(),
                                 headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 401


# Every file of shared/faces/edge: (expected status, fewest faces, most faces).
# Minimums are what the HOG detector must find; "no_face" photos must yield none.
EDGE = {
    "alpha_png_transparent_outside_circle_hugo_chavez.png": (200, 1, 1),
    "alpha_rgba_png_opaque_barack_obama.png": (200, 1, 1),
    "cmyk_jpeg_vladimir_putin.jpg": (200, 1, 1),
    "corrupted_from_repo.png": (400, 0, 0),
    "empty_0_bytes.jpg": (400, 0, 0),
    "empty_5_bytes.png": (400, 0, 0),
    "exif_orientation_3_compreface_person_a.jpg": (200, 1, 1),
    "exif_orientation_3_grayscale_2faces.jpg": (200, 1, 2),  # Pierre Curie is in profile
    "exif_orientation_6_angelina_jolie.jpg": (200, 1, 1),
    "exif_orientation_6_grayscale_2faces.jpg": (200, 1, 2),
    "exif_orientation_8_grayscale_2faces.jpg": (200, 1, 2),
    "exif_orientation_8_mark_zuckerberg.jpg": (200, 1, 1),
    "format_bmp_albert_einstein.bmp": (200, 1, 1),
    "format_gif_albert_einstein.gif": (200, 1, 1),
    "format_png_albert_einstein.png": (200, 1, 1),
    "format_tiff_albert_einstein.tiff": (200, 1, 1),
    "format_webp_albert_einstein.webp": (200, 1, 1),
    "grayscale_L_colin_powell.jpg": (200, 1, 1),
    "grayscale_alpha_LA_png_laura_bush.png": (200, 1, 1),
    "group_2faces_angelina_jolie_and_brad_pitt.jpg": (200, 2, 2),
    "group_2faces_barack_obama_and_joe_biden.jpg": (200, 2, 2),
    "group_5faces_annotated.jpg": (200, 4, 5),
    "group_5faces_sitting.jpg": (200, 5, 5),
    "group_6faces_annotated.jpg": (200, 6, 6),
    "group_8faces_annotated.jpg": (200, 7, 8),
    "group_crowd_about_20_small_faces.jpg": (200, 0, 21),  # ~20 px faces: below what HOG sees
    "group_selfie_angelina_jolie_and_others.jpg": (200, 4, 8),
    "near_duplicate_lowres_240p_barack_obama.jpg": (200, 1, 1),
    "no_face_cat.jpg": (200, 0, 0),
    "no_face_cats_large_2400x1600.jpg": (200, 0, 0),
    "no_face_landscape.jpg": (200, 0, 0),
    "no_face_park.jpg": (200, 0, 0),
    "not_an_image_text.jpg": (400, 0, 0),
    "partial_face_barack_obama.jpg": (200, 1, 1),
    "progressive_jpeg_jennifer_lopez.jpg": (200, 1, 1),
    "reflection_angelina_jolie.jpg": (200, 1, 2),
    "rotated_180_no_exif_grayscale_2faces.jpg": (200, 1, 2),  # no EXIF: found once turned upright
    "rotated_90_no_exif_grayscale_2faces.jpg": (200, 1, 2),
    "rotated_90_no_exif_katy_perry.jpg": (200, 1, 1),
    "small_320x240_barack_obama.jpg": (200, 1, 1),
    "tiny_1x1.png": (200, 0, 0),
    "tiny_face_crop_24x24_tony_blair.jpg": (200, 0, 1),
    "tiny_whole_64x64_tony_blair.jpg": (200, 0, 1),
    "truncated_from_repo.jpg": (200, 1, 1),
    "truncated_half_angelina_jolie.jpg": (200, 1, 1),
    "truncated_header_only_george_w_bush.jpg": (400, 0, 0),
    "upright_no_exif_reference_2faces.jpg": (200, 1, 2),
    "webp_content_with_jpg_extension_scarlett_johansson.jpg": (200, 1, 1),
}


def test_the_edge_table_covers_every_file(shared_faces):
    assert sorted(p.name for p in (shared_faces / "edge").iterdir() if p.is_file()) == sorted(EDGE)


@pytest.mark.faces
@pytest.mark.parametrize("name", sorted(EDGE))
async def test_edge_photo(client, auth, shared_faces, name):
    status, fewest, most = EDGE[name]
    response = await upload(client, auth, (shared_faces / "edge" / name).read_bytes())
    body = await response.get_json()
    assert response.status_code == status, body
    if status == 400:
        assert body == {"error": "Invalid image stream"}
        return
    assert body["message"] == "Image uploaded successfully"
    assert fewest <= len(body["faces"]) <= most, body["faces"]
    for face in body["faces"]:
        assert face["status"] in ("unknown", "too_small")
        x, y, w, h = face["box"]
        assert w > 0 and h > 0 and x >= 0 and y >= 0


@pytest.mark.faces
async def test_unknown_faces_are_stored_with_thumbnail_chip_and_engine(client, auth, hub, shared_faces):
    response = await upload(client, auth, (shared_faces / "edge" / "group_2faces_barack_obama_and_joe_biden.jpg")
                            .read_bytes())
    assert response.status_code == 200
    rows = hub.store.read().execute("SELECT engine, length(embedding), thumbnail, chip FROM faces").fetchall()
    assert len(rows) == 2
    for engine_id, embedding_bytes, thumbnail, chip in rows:
        assert engine_id == hub.engine.id
        assert embedding_bytes == 128 * 4
        assert thumbnail[:2] == b"\xff\xd8"  # JPEG
        assert Image.open(io.BytesIO(chip)).size == (150, 150)
    assert hub.store.read().execute("SELECT faces, unknown FROM uploads").fetchall() == [(2, 2)]


@pytest.mark.faces
async def test_too_small_faces_are_reported_but_never_stored(client, auth, hub, shared_faces):
    response = await upload(client, auth, (shared_faces / "edge" / "group_8faces_annotated.jpg").read_bytes())
    faces = (await response.get_json())["faces"]
    assert faces and {f["status"] for f in faces} == {"too_small"}
    assert all(f["contact"] is None and f["distance"] is None for f in faces)
    assert hub.store.read().execute("SELECT count(*) FROM faces").fetchone()[0] == 0


def test_a_stopwatch_times_every_stage_of_the_real_upload(hub, identities):
    from facelink_local.stopwatch import Stopwatch

    user_id = hub.accounts.authenticate(hub.accounts.register("timed", PASSWORD)["access_token"])
    stopwatch = Stopwatch()
    answer = hub.uploads.process(user_id, identities["colin_powell"][0].read_bytes(), stopwatch)
    assert [f["status"] for f in answer["faces"]] == ["unknown"]
    assert set(stopwatch.seconds) == {"decode", "detect", "align", "embed", "match", "store"}
    assert all(seconds > 0 for seconds in stopwatch.seconds.values())


@pytest.mark.faces
@pytest.mark.parametrize(("name", "turn"), [
    ("rotated_180_no_exif_grayscale_2faces.jpg", Image.Transpose.ROTATE_180),
    ("rotated_90_no_exif_grayscale_2faces.jpg", Image.Transpose.ROTATE_90),  # stored turned to the left
])
async def test_a_turned_photo_without_exif_gives_its_face_where_it_is_in_that_photo(
        client, auth, hub, shared_faces, name, turn):
    """The same face as in the upright photo: its box in the photo as sent (the upright box turned
    along), its thumbnail and chip upright, its embedding the upright photo's."""
    upright = await upload(client, auth, (shared_faces / "edge" / "upright_no_exif_reference_2faces.jpg").read_bytes())
    turned = await upload(client, auth, (shared_faces / "edge" / name).read_bytes())
    ((x, y, w, h),) = [f["box"] for f in (await upright.get_json())["faces"]]
    ((tx, ty, tw, th),) = [f["box"] for f in (await turned.get_json())["faces"]]
    marker = Image.new("L", (840, 700))
    marker.paste(255, (x, y, x + w, y + h))
    assert marker.transpose(turn).getbbox() == (tx, ty, tx + tw, ty + th)
    rows = hub.store.read().execute("SELECT embedding, chip FROM faces ORDER BY id").fetchall()
    first, second = (np.frombuffer(r[0], "<f4") for r in rows)
    assert np.linalg.norm(first - second) < 0.1  # one face, twice; a sideways chip would be far off
    assert Image.open(io.BytesIO(rows[1][1])).size == (150, 150)


@pytest.mark.parametrize("turns", [0, 1, 2, 3, 5])
def test_a_box_of_a_turned_picture_maps_back_onto_the_same_pixels(turns):
    picture = np.zeros((30, 50), np.uint8)
    picture[4:10, 7:19] = 1  # rows 4-9, columns 7-18
    turned = np.rot90(picture, turns)
    rows, cols = np.nonzero(turned)
    box = Box(int(cols.min()), int(rows.min()), int(cols.max() - cols.min() + 1), int(rows.max() - rows.min() + 1))
    assert box_before_turns(box, turns, turned.shape[1], turned.shape[0]) == Box(7, 4, 12, 6)
