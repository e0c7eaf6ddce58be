"""Render each view of the desktop app, with real photos, into docs/screenshots/.

    .venv/bin/python scripts/screenshots.py [--faces ../shared/faces] [--out docs/screenshots]

Runs offscreen (no display needed). A throwaway hub in a temporary folder gets
real photos from the shared set through the real pipeline (detection,
embedding, matching, clustering); three people are named as contacts, and the
others stay unknown. The photos' times are then spread over the last days, as
a week of wearing the camera would, so the sightings strips show something. A
simulated wearable on a pty is connected, so Status shows a live link.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from facelink_local.config import Settings  # noqa: E402
from facelink_local.hub import Hub  # noqa: E402
from facelink_local.timefmt import iso, now_utc  # noqa: E402
from firmware_bridge.haptics import HapticBridge  # noqa: E402
from firmware_bridge.simulator import DeviceSimulator  # noqa: E402
from gui import theme  # noqa: E402
from gui.app import DesktopApp, icon_path  # noqa: E402
from gui.contacts_view import CID  # noqa: E402
from gui.humanize import PRESETS  # noqa: E402
from gui.prefs import Prefs  # noqa: E402
from gui.qt import QApplication, QFont, QIcon, QSize  # noqa: E402

# (folder, name given in the app or None for unknown, photos, days ago of each sighting)
CONTACTS = [("ariel_sharon", "Ariel", 4), ("angelina_jolie", "Angelina", 3), ("colin_powell", "Colin", 3)]
UNKNOWN = [
    ("serena_williams", [0.003, 0.2, 1.1, 2.4, 5.6, 9.0]),
    ("kofi_annan", [0.05, 0.9, 3.2, 3.25, 7.5]),
    ("george_clooney", [1.6, 6.3, 11.5, 12.8]),
    ("hillary_clinton", [4.2, 4.25, 4.3]),
]
# the pattern each contact was given in the app
PATTERNS = {"Ariel": "Short-short", "Angelina": "Heartbeat", "Colin": "Long-short"}
# minutes ago each contact was last recognized
LAST_SEEN_MINUTES = {"Ariel": 5, "Angelina": 130, "Colin": 60 * 26}


def free_port(preferred: int) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("0.0.0.0", preferred))
            return preferred
        except OSError:
            sock.bind(("0.0.0.0", 0))
            return sock.getsockname()[1]


def backdate(hub: Hub, upload_ids: list[int], days_ago: float) -> None:
    """Move an upload and its faces back in time (demo data only)."""
    stamp = iso(now_utc() - timedelta(days=days_ago))
    with hub.store.write() as db:
        for upload_id in upload_ids:
            db.execute("UPDATE uploads SET received_at = ? WHERE id = ?", [stamp, upload_id])
            db.execute("UPDATE faces SET seen_at = ? WHERE upload_id = ?", [stamp, upload_id])


def latest_upload(hub: Hub, user_id: int) -> int:
    return hub.uploads.recent(user_id, 1)[0]["upload_id"]


def populate(hub: Hub, faces: Path) -> int:
    hub.accounts.register("ann", "correct horse battery")
    user = hub.accounts.user_id_for("ann")
    people = faces / "identities"
    # Contacts: their faces arrive first, then each is named from the timeline.
    for folder, name, count in CONTACTS:
        for photo in sorted((people / folder).glob("*.jpg"))[:count]:
            hub.uploads.process(user, photo.read_bytes())
            backdate(hub, [latest_upload(hub, user)], 13.5)
        timeline = hub.timeline.pull(user)
        biggest = max(timeline, key=lambda cid: len(timeline[cid]))
        cid = hub.contacts.create_from_cluster(user, biggest, name)["cid"]
        hub.contacts.edit(user, cid, vib_pattern=dict(PRESETS)[PATTERNS[name]])
    hub.timeline.pull(user)  # what remains (others in the background of those photos) is forgotten:
    with hub.store.write() as db:
        db.execute("DELETE FROM faces WHERE user_id = ? AND contact_id IS NULL", [user])
        db.execute("DELETE FROM clusters WHERE user_id = ?", [user])
    # Contacts recognized again later (the real matching sets last_seen).
    for folder, name, count in CONTACTS:
        photo = sorted((people / folder).glob("*.jpg"))[count]
        answer = hub.uploads.process(user, photo.read_bytes())
        assert any(f["status"] == "matched" for f in answer["faces"]), (folder, answer)
        minutes = LAST_SEEN_MINUTES[name]
        backdate(hub, [latest_upload(hub, user)], minutes / 1440)
        with hub.store.write() as db:
            db.execute("UPDATE contacts SET last_seen = ? WHERE user_id = ? AND name = ?",
                       [iso(now_utc() - timedelta(minutes=minutes)), user, name])
    # Unknown people, met over the last days.
    for folder, days in UNKNOWN:
        for photo, days_ago in zip(sorted((people / folder).glob("*.jpg")), days):
            hub.uploads.process(user, photo.read_bytes())
            backdate(hub, [latest_upload(hub, user)], days_ago)
    return user


def settle(app: QApplication, desktop: DesktopApp) -> None:
    for _ in range(200):
        app.processEvents()
        if desktop.tasks.pending == 0:
            app.processEvents()
            return
        desktop.tasks.wait(50)
    raise RuntimeError("the views did not finish loading")


def shoot(app: QApplication, window, path: Path) -> None:
    app.processEvents()
    window.grab().save(str(path))
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


def wait_for(app: QApplication, condition, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("the view never showed what was waited for")
        app.processEvents()
        time.sleep(0.02)
    app.processEvents()


def shoot_engine_switch(app: QApplication, desktop: DesktopApp, path: Path) -> None:
    """The face engine card half-way through re-embedding the stored faces for the reference engine."""
    hub, panel = desktop.hub, desktop.window.status.engine
    hub.reembed.batch_size = 1       # one face a batch, with long rests: the picture catches the job running
    hub.reembed.yield_fraction = 6.0
    panel.choice.setCurrentIndex(panel.choice.findData("dlib"))
    panel.use_button.click()
    wait_for(app, lambda: panel.progress.isVisible() and 1 < panel.progress.maximum() < 3 * panel.progress.value())
    shoot(app, desktop.window.status.cards["engine"], path)
    hub.reembed.yield_fraction = 0.0  # then the rest at full speed
    wait_for(app, lambda: panel.result.text().startswith("Done"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=Path(os.environ.get("FACELINK_SHARED_FACES",
                                                                          REPO.parent / "shared" / "faces")))
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--point-size", type=float, default=11.0,
                        help="base font size, as a desktop would set it (default 11 pt)")
    args = parser.parse_args()
    if not (args.faces / "identities").is_dir():
        parser.error(f"no photo set at {args.faces}")
    args.out.mkdir(parents=True, exist_ok=True)

    app = QApplication([sys.argv[0]])
    app.setApplicationName("FaceLink")
    if icon_path():
        app.setWindowIcon(QIcon(str(icon_path())))
    font = QFont(app.font())
    font.setPointSizeF(args.point_size)
    app.setFont(font)
    theme.apply(app, dark=False)

    with tempfile.TemporaryDirectory(prefix="facelink-shots-") as tmp:
        tmp = Path(tmp)
        # The first-run setup, on an empty hub.
        empty = Hub(Settings(data_dir=tmp / "empty", bcrypt_rounds=4))
        first = DesktopApp(empty, "0.0.0.0", free_port(5055), prefs=Prefs())
        window = first.start()
        window.resize(QSize(1100, 720))
        settle(app, first)
        shoot(app, window, args.out / "setup-account.png")
        first.quit()
        empty.close()

        hub = Hub(Settings(data_dir=tmp / "hub", bcrypt_rounds=4))
        print("analyzing photos ...")
        populate(hub, args.faces)
        sim = DeviceSimulator(tmp / "wearable", name="FaceLink band").start()
        haptics = HapticBridge.for_hub(hub, str(tmp / "wearable")).start()
        haptics.link.wait_connected(5)
        desktop = DesktopApp(hub, "0.0.0.0", free_port(5055), haptics=haptics, prefs=Prefs(username="ann"))
        window = desktop.start()
        window.resize(QSize(1100, 760))
        settle(app, desktop)

        window.show_setup()
        window.setup._use("ann")  # step 2 of the setup: where the wearable connects
        settle(app, desktop)
        shoot(app, window, args.out / "setup-connect.png")
        window.show_main()
        settle(app, desktop)
        for index, name in enumerate(("timeline", "contacts", "status")):
            window.resize(QSize(1100, 1350 if name == "status" else 760))  # Status: every card, no scrolling
            window.show_tab(index)
            settle(app, desktop)
            if name == "contacts":
                window.contacts.select_cid(window.contacts.model.item(0).data(CID))
                window.contacts.editor.strip.set_playhead(4.4)  # mid-preview, as it looks while playing
            shoot(app, window, args.out / f"{name}.png")
        window.contacts.editor.strip.set_playhead(-1)
        shoot_engine_switch(app, desktop, args.out / "status-engine.png")

        # Large text: the same view with the font twice as big, as a low-vision setting would.
        big = QFont(app.font())
        big.setPointSizeF(args.point_size * 1.6)
        app.setFont(big)
        theme.apply(app, dark=False)
        large = DesktopApp(hub, "0.0.0.0", 0, haptics=haptics, prefs=Prefs(username="ann"))
        large.server = desktop.server  # one server and one wearable link: only the window is new
        large_window = large.start()
        large_window.resize(QSize(1400, 1050))
        settle(app, large)
        large_window.show_tab(1)
        settle(app, large)
        shoot(app, large_window, args.out / "contacts-large-text.png")
        large_window.show_tab(2)  # Status: the cards go one above the other, and the view scrolls
        large_window.resize(QSize(1400, 1120))
        settle(app, large)
        status = large_window.status
        body = status.scroll.widget()
        top = status.cards["advanced"].mapTo(body, status.cards["advanced"].rect().topLeft()).y()
        status.scroll.verticalScrollBar().setValue(top - 16)  # the new groups: advanced, then the wearable
        shoot(app, large_window, args.out / "status-large-text.png")
        large_window.hide()

        # The dark scheme, for dark desktops.
        app.setFont(font)
        theme.apply(app, dark=True)
        dark = DesktopApp(hub, "0.0.0.0", 0, haptics=haptics, prefs=Prefs(username="ann"))
        dark.server = desktop.server
        dark_window = dark.start()
        dark_window.resize(QSize(1100, 760))
        settle(app, dark)
        shoot(app, dark_window, args.out / "timeline-dark.png")

        desktop.quit()
        haptics.stop()
        sim.stop()
        hub.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
