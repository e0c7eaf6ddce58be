"""Bad images and bad bodies against the real server on 127.0.0.1.

Each answer must be a clear status with a JSON body, within a bounded time
(the HTTP client's timeout), with bounded memory (the peak resident memory of
the server process, measured afresh for every request), and the server must
keep serving afterwards. A refused body stores nothing.

The photos are generated here: decompression bombs whose headers claim
60000x60000 pixels, a GIF of thousands of frames, files cut or damaged at
chosen places. The file-by-file table of shared/faces/edge is in test_upload.py.
"""

from __future__ import annotations

import io
import random
import sqlite3
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

from facelink_local.faces.image import InvalidImage, decode_image

from .rawhttp import chunked, head, trickle
from .support import ServerProcess, bearer, http, register

pytestmark = pytest.mark.model

MiB = 1024 * 1024
TIMEOUT_S = 30           # every answer comes within this (a liveness bound, not a speed target)
REFUSED_PEAK_MIB = 40    # a refused body may not grow the server's peak memory by more than this
# A transparent photo just under the pixel limit: decoded (4 bytes x 39 Mpx = 150 MiB), premultiplied
# once more by Pillow to resample it, then only small copies: about 350 MiB (it used to be about 600).
DECODED_PEAK_MIB = 400


# --- generated files ---------------------------------------------------------------------------

def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG header claiming width x height RGB pixels, with almost no data."""
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + png_chunk(b"IEND", b""))


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) is rewritten to claim width x height."""
    data = bytearray(encoded(Image.new("RGB", (16, 16), (200, 120, 90)), "JPEG"))
    at = 2
    while data[at + 1] not in (0xC0, 0xC1, 0xC2):  # walk the markers to the frame header
        at += 2 + struct.unpack(">H", data[at + 2:at + 4])[0]
    data[at + 5:at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_claiming(width: int, height: int) -> bytes:
    data = bytearray(encoded(Image.new("P", (16, 16), 3), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)  # the logical screen descriptor
    return bytes(data)


def many_frame_gif(first: Image.Image, frames: int) -> bytes:
    """An animated GIF: `first`, then `frames - 1` copies of it with a corner patch changing colour."""
    first = first.convert("RGB").quantize(256)

    def rest():
        for i in range(1, frames):
            frame = first.copy()
            frame.paste(i % 256, (0, 0, 8, 8))  # each frame differs from the one before
            yield frame

    return encoded(first, "GIF", save_all=True, append_images=rest(), duration=20, loop=0)


def sample_photo() -> Image.Image:
    """A 250x250 picture with structure (no face), so that encoders produce real data."""
    image = Image.radial_gradient("L").resize((250, 250)).convert("RGB")
    image.paste((30, 140, 200), (40, 40, 120, 200))
    return image


def damaged(data: bytes, at: int, length: int = 1) -> bytes:
    out = bytearray(data)
    for i in range(at, at + length):
        out[i] ^= 0xA5
    return bytes(out)


def bad_inputs() -> dict[str, tuple[bytes, int]]:
    """name -> (body, expected status). 400 is {"error": "Invalid image stream"}."""
    photo = sample_photo()
    jpeg = encoded(photo, "JPEG", quality=90)
    png = encoded(photo, "PNG")
    scan = jpeg.index(b"\xff\xda")  # start of the JPEG's pixel data
    return {
        "zero bytes": (b"", 400),
        "five bytes of a PNG signature": (b"\x89PNG\r", 400),
        "text": (b"this is not a photo\n" * 20, 400),
        "JPEG cut inside its header": (jpeg[:scan - 10], 400),
        "JPEG cut before its pixels": (jpeg[:scan], 400),
        "PNG cut inside its header": (png[:30], 400),
        "PNG with a broken header checksum": (damaged(png, 20), 400),
        "JPEG with a damaged frame header": (damaged(jpeg, jpeg.index(b"\xff\xc0"), 4), 400),
        "JPEG with a damaged scan header": (damaged(jpeg, scan, 4), 400),
        "GIF signature then garbage": (b"GIF89a" + bytes(range(256)) * 4, 400),
        "PNG claiming 60000x60000": (png_claiming(60000, 60000), 400),
        "JPEG claiming 60000x60000": (jpeg_claiming(60000, 60000), 400),
        "GIF claiming 60000x60000": (gif_claiming(60000, 60000), 400),
        "PNG claiming 7000x7000 (49 Mpx)": (png_claiming(7000, 7000), 400),
        # Headers intact, pixels cut short or damaged: decoded as far as they go (the
        # rest is filled in), so a frame cut off in transit may still show a face.
        "JPEG cut in the middle of its pixels": (jpeg[:len(jpeg) // 2], 200),
        "JPEG with damaged pixels": (damaged(jpeg, scan + 200, 500), 200),
        "PNG cut in the middle of its pixels": (png[:len(png) // 2], 200),
    }


BAD = bad_inputs()


# --- the server --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory) -> ServerProcess:
    """`facelink serve` as a child process, so its memory is its own to measure."""
    folder = tmp_path_factory.mktemp("bad-images")
    process = ServerProcess(folder / "data", folder / "server.log")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def auth(server) -> dict[str, str]:
    return bearer(register(server.base, "ann")["access_token"])


def upload_count(server: ServerProcess) -> int:
    """Rows in the uploads table, read from the database file itself (read-only)."""
    with sqlite3.connect(f"file:{server.data_dir / 'facelink.db'}?mode=ro", uri=True) as db:
        return db.execute("SELECT count(*) FROM uploads").fetchone()[0]


def measured_upload(server, auth, body: bytes, content_type: str = "application/octet-stream"):
    """POST body to upload_image; returns (response, seconds, peak memory growth in MiB)."""
    baseline = server.rss_kib()
    server.reset_peak_rss()
    start = time.monotonic()
    response = http.post(f"{server.base}/api/v1/upload_image", content=body, timeout=TIMEOUT_S,
                         headers={**auth, "Content-Type": content_type})
    seconds = time.monotonic() - start
    return response, seconds, (server.peak_rss_kib() - baseline) / 1024


def assert_still_serving(server: ServerProcess) -> None:
    assert http.get(f"{server.base}/health", timeout=TIMEOUT_S).json()["status"] == "ok"


# --- tests -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(BAD))
def test_bad_image_gets_a_clear_answer_in_bounded_time_and_memory(server, auth, name):
    body, status = BAD[name]
    before = upload_count(server)
    response, seconds, peak_mib = measured_upload(server, auth, body)
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json() == {"error": "Invalid image stream"}
        assert upload_count(server) == before  # nothing stored
    else:
        assert response.json()["message"] == "Image uploaded successfully"
        assert upload_count(server) == before + 1
    assert peak_mib < REFUSED_PEAK_MIB, f"{name}: peak memory grew {peak_mib:.0f} MiB in {seconds:.1f} s"
    assert_still_serving(server)


def test_a_photo_just_under_the_pixel_limit_is_decoded_once(server, auth):
    """39 Mpx of RGBA: 170 kB of PNG that decodes to 150 MiB. Shrunk before any
    conversion, it costs two full-size copies at most (it used to take four)."""
    big = Image.new("RGBA", (6240, 6240), (90, 140, 200, 128))
    big.paste((250, 250, 250, 255), (1000, 1000, 5000, 5000))
    body = encoded(big, "PNG", compress_level=1)
    del big
    response, seconds, peak_mib = measured_upload(server, auth, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Image uploaded successfully", "faces": []}
    assert peak_mib < DECODED_PEAK_MIB, f"peak memory grew {peak_mib:.0f} MiB in {seconds:.1f} s"
    assert_still_serving(server)


@pytest.mark.faces
def test_a_gif_of_thousands_of_frames_is_read_for_its_first_frame_only(server, auth, identities):
    with Image.open(identities["colin_powell"][0]) as photo:
        body = many_frame_gif(photo, 3000)
    assert Image.open(io.BytesIO(body)).n_frames == 3000
    response, seconds, peak_mib = measured_upload(server, auth, body, "image/gif")
    assert response.status_code == 200, response.text
    assert len(response.json()["faces"]) == 1  # the face of frame one, and nothing of the other 2999
    assert peak_mib < REFUSED_PEAK_MIB, f"peak memory grew {peak_mib:.0f} MiB in {seconds:.1f} s"


@pytest.mark.faces
@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "multipart/form-data; boundary=x",
                                          "application/x-www-form-urlencoded", "video/mp4"])
def test_a_real_photo_with_the_wrong_content_type_is_415(server, auth, identities, content_type):
    before = upload_count(server)
    response, _, peak_mib = measured_upload(server, auth, identities["colin_powell"][0].read_bytes(), content_type)
    assert response.status_code == 415
    assert set(response.json()) == {"error"} and "Content-Type" in response.json()["error"]
    assert upload_count(server) == before
    assert peak_mib < REFUSED_PEAK_MIB


def test_a_body_over_the_limit_sent_slowly_is_refused_before_it_arrives(server, auth):
    """Content-Length says 21 MiB, then the bytes trickle: 413 at once, and the connection is closed."""
    start = head("POST", "/api/v1/upload_image", {
        **auth, "Content-Type": "application/octet-stream", "Content-Length": str(21 * MiB)})
    server.reset_peak_rss()
    baseline = server.rss_kib()
    outcome = trickle(server.port, start, (b"\xff" * 100 for _ in range(10_000)), delay=0.05,
                      give_up_after=TIMEOUT_S)
    assert outcome.status == 413 and set(outcome.body) == {"error"}
    assert outcome.sent < MiB and outcome.closed
    assert (server.peak_rss_kib() - baseline) / 1024 < REFUSED_PEAK_MIB
    assert_still_serving(server)


def mutants(count: int, seed: int = 7) -> list[tuple[str, bytes]]:
    """Copies of one picture in six formats, with bytes overwritten, or cut, at random places."""
    rng = random.Random(seed)
    photo = sample_photo()
    originals = {fmt: encoded(photo.convert("P") if fmt == "GIF" else photo, fmt)
                 for fmt in ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP")}
    out = []
    for i in range(count):
        fmt, data = rng.choice(list(originals.items()))
        data = bytearray(data)
        how = rng.choice(["header", "anywhere", "cut"])
        if how == "cut":
            data = data[:rng.randrange(1, len(data))]
        else:
            span = 300 if how == "header" else len(data)
            for _ in range(rng.randint(1, 16)):
                data[rng.randrange(min(span, len(data)))] = rng.randrange(256)
        out.append((f"{fmt} {how} #{i}", bytes(data)))
    return out


def test_damaged_copies_decode_or_are_refused_never_anything_else():
    """Decoding either gives an RGB picture or refuses with InvalidImage (a 400), whatever the damage."""
    outcomes = {"decoded": 0, "refused": 0}
    for name, data in mutants(600):
        try:
            rgb = decode_image(data, max_side=1600)
        except InvalidImage:
            outcomes["refused"] += 1
        else:
            assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype.name == "uint8", name
            outcomes["decoded"] += 1
    assert outcomes["decoded"] > 50 and outcomes["refused"] > 50, outcomes  # both paths were exercised


def test_damaged_copies_through_the_server_are_200_or_400(server, auth):
    for name, data in mutants(40, seed=11):
        response = http.post(f"{server.base}/api/v1/upload_image", content=data, timeout=TIMEOUT_S,
                             headers={**auth, "Content-Type": "application/octet-stream"})
        assert response.status_code in (200, 400), (name, response.text)
        if response.status_code == 400:
            assert response.json() == {"error": "Invalid image stream"}, name
    assert_still_serving(server)


@pytest.mark.faces
def test_after_all_that_a_good_photo_is_still_recognized(server, auth, identities):
    before = upload_count(server)
    response = http.post(f"{server.base}/api/v1/upload_image", timeout=TIMEOUT_S,
                         content=identities["halle_berry"][0].read_bytes(),
                         headers={**auth, "Content-Type": "image/jpeg"})
    assert response.status_code == 200
    assert [f["status"] for f in response.json()["faces"]] == ["unknown"]
    assert upload_count(server) == before + 1


# --- slow senders (an in-process server with a short body timeout and a 1 MiB limit) ------------

def test_slow_and_endless_senders_are_cut_off_while_others_are_served(make_hub, serve, identities):
    """Four connections misbehave at once: a body trickling in under the limit,
    an endless chunked body, a chunked body racing past the limit, and headers
    that never end. Each is answered 408/413 or cut off within bounded time,
    while good uploads from another device are answered normally meanwhile."""
    hub = make_hub(body_timeout_s=2.0, max_upload_bytes=MiB)
    live = serve(hub)
    port = live.server.port
    auth = bearer(register(live.base, "ann")["access_token"])
    upload = {**auth, "Content-Type": "application/octet-stream"}
    cases = {
        "declared 512 KiB, trickled": (
            head("POST", "/api/v1/upload_image", {**upload, "Content-Length": str(512 * 1024)}),
            (b"\xff" * 64 for _ in range(100_000)), 0.05),
        "chunked, endless, trickled": (
            head("POST", "/api/v1/upload_image", {**upload, "Transfer-Encoding": "chunked"}),
            chunked(b"\xff" * 64 for _ in range(100_000)), 0.05),
        "chunked, past the limit": (
            head("POST", "/api/v1/upload_image", {**upload, "Transfer-Encoding": "chunked"}),
            chunked(b"\xff" * 65536 for _ in range(100)), 0.0),
        "headers that never end": (
            b"POST /api/v1/upload_image HTTP/1.1\r\nHost: 127.0.0.1\r\n",
            (b"X-Slow: %d\r\n" % i for i in range(100_000)), 0.2),
    }
    outcomes: dict[str, object] = {}

    def run(name: str) -> None:
        start, pieces, delay = cases[name]
        outcomes[name] = trickle(port, start, pieces, delay, give_up_after=TIMEOUT_S)

    threads = [threading.Thread(target=run, args=(name,)) for name in cases]
    for thread in threads:
        thread.start()
    good = []
    while any(t.is_alive() for t in threads):
        response = http.post(f"{live.base}/api/v1/upload_image", content=identities["colin_powell"][1].read_bytes(),
                             headers=upload, timeout=TIMEOUT_S)
        good.append(response.status_code)
    for thread in threads:
        thread.join()

    assert good and set(good) == {200}
    for name in ("declared 512 KiB, trickled", "chunked, endless, trickled"):
        assert outcomes[name].status == 408, name
        assert "did not arrive in time" in outcomes[name].body["error"], name
    assert outcomes["chunked, past the limit"].status == 413
    assert outcomes["headers that never end"].status is None  # cut at the keep-alive timeout
    for name, outcome in outcomes.items():
        assert outcome.closed, name
        if outcome.status is not None:
            assert set(outcome.body) == {"error"}, name
    assert hub.store.read().execute("SELECT count(*) FROM uploads").fetchone()[0] == len(good)
