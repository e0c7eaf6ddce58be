"""UploadService.recent: the desktop app's list of recent photos."""

from __future__ import annotations

import io

from PIL import Image


def blank_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 180, 160)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_recent_lists_a_users_uploads_newest_first(hub) -> None:
    hub.accounts.register("ana", "correct horse battery")
    hub.accounts.register("ben", "correct horse battery")
    ana, ben = hub.accounts.user_id_for("ana"), hub.accounts.user_id_for("ben")
    for _ in range(3):
        hub.uploads.process(ana, blank_jpeg())
    hub.uploads.process(ben, blank_jpeg())

    recent = hub.uploads.recent(ana, limit=2)

    assert len(recent) == 2
    assert [r["faces"] for r in recent] == [0, 0]
    assert recent[0]["upload_id"] > recent[1]["upload_id"]
    assert recent[0]["received_at"] >= recent[1]["received_at"]
    assert len(hub.uploads.recent(ben)) == 1
    assert hub.uploads.recent(ana, limit=10)[-1]["unknown"] == 0
