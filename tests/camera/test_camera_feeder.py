"""The feeder against a real hub: pacing, repeats, bad files, outages and the bounded queue."""

from __future__ import annotations

import io
import threading
import time

import pytest
from PIL import Image

from facelink_local.api import create_app
from facelink_local.camera import CameraClient, Feeder, FolderSource, GaveUp, VideoSource
from facelink_local.hub import Hub
from facelink_local.server import BackgroundServer

from .camera_helpers import PASSWORD, USERNAME, fast_backoff, folder_of, free_port, reencoded, upload_count, write_video

pytestmark = [pytest.mark.faces, pytest.mark.model]


class TimedClient(CameraClient):
    """The real client, noting when each upload starts."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.started: list[float] = []

    def upload(self, jpeg: bytes):
        self.started.append(time.monotonic())
        return super().upload(jpeg)


def one_pixel_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1), "white").save(buffer, format="JPEG")
    return buffer.getvalue()


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_repeats_are_skipped_and_uploads_never_come_faster_than_the_interval(live_server, account, people, tmp_path):
    gates, powell = people["bill_gates"], people["colin_powell"]
    folder = folder_of(tmp_path, gates[0], powell[0], gates[1])
    (folder / "01b_same_again.jpg").write_bytes(reencoded(gates[0]))   # right after 01: a repeat
    (folder / "02b_copy.jpg").write_bytes(powell[0].read_bytes())       # right after 02: a repeat
    lines: list[str] = []
    with TimedClient(live_server, *account) as client:
        stats = Feeder(client, FolderSource(folder), interval=0.3, report=lines.append).run()

    assert (stats.frames, stats.sent, stats.similar) == (5, 3, 2)
    gaps = [b - a for a, b in zip(client.started, client.started[1:])]
    assert len(gaps) == 2 and min(gaps) >= 0.3
    assert "frame 2 (01b_same_again.jpg): same as frame 1, not sent" in lines[1]
    assert [line.split(" ", 1)[1] for line in lines] == [
        "frame 1 (01_bill_gates_01.jpg): unknown x1",
        "frame 2 (01b_same_again.jpg): same as frame 1, not sent",
        "frame 3 (02_colin_powell_01.jpg): unknown x1",
        "frame 4 (02b_copy.jpg): same as frame 3, not sent",
        "frame 5 (03_bill_gates_02.jpg): unknown x1",
    ]


def test_files_that_are_not_images_are_reported_and_skipped(camera, people, no_face, tmp_path):
    folder = folder_of(tmp_path, people["bill_gates"][0], no_face)
    (folder / "00_notes.txt").write_text("remember the milk")
    (folder / "03_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 and then nothing")
    lines: list[str] = []
    stats = Feeder(camera, FolderSource(folder), interval=0, report=lines.append).run()
    assert (stats.sent, stats.unreadable) == (2, 2)
    assert [line.split(" ", 1)[1] for line in lines] == [
        "00_notes.txt: skipped, not an image",
        "frame 1 (01_bill_gates_01.jpg): unknown x1",
        "frame 2 (02_edge_no_face_cat.jpg): no face",
        "03_broken.jpg: skipped, not an image",
    ]


def test_a_video_is_fed_one_frame_per_interval_of_video(camera, people, tmp_path):
    video = write_video(tmp_path / "walk.avi", [(people["bill_gates"][0], 10), (people["colin_powell"][0], 10)])
    sent = []
    stats = Feeder(camera, VideoSource(video, every=0.5), interval=0.05,
                   on_sent=lambda frame, result: sent.append((frame.label, result.summary()))).run()
    assert (stats.frames, stats.similar) == (4, 2)
    assert sent == [("0.0 s", "unknown x1"), ("1.0 s", "unknown x1")]


def test_no_queued_frame_is_lost_while_the_hub_restarts(restartable, people, tmp_path):
    photos = [people["bill_gates"][0], people["colin_powell"][0], people["alvaro_uribe"][0],
              people["bill_gates"][1], people["colin_powell"][1]]
    answered: list[str] = []

    def on_sent(frame, result) -> None:
        answered.append(frame.label)
        if len(answered) == 1:
            restartable.stop()  # the hub goes away right after answering the first frame

    with CameraClient(restartable.url, USERNAME, PASSWORD) as client:
        feeder = Feeder(client, FolderSource(folder_of(tmp_path, *photos)), interval=0.05, queue_size=8,
                        backoff=fast_backoff(), on_sent=on_sent)
        runner = threading.Thread(target=feeder.run)
        runner.start()
        wait_for(lambda: feeder.stats.frames == 5 and feeder.hub_down)
        assert len(feeder.queue) == 4 and upload_count(restartable.hub) == 1
        restartable.start()
        runner.join(30)

    assert not runner.is_alive()
    assert (feeder.stats.sent, feeder.stats.dropped, feeder.stats.queued) == (5, 0, 0)
    assert answered == sorted(answered) and len(answered) == 5
    assert upload_count(restartable.hub) == 5


def test_a_full_queue_keeps_the_newest_frames(restartable, people, tmp_path):
    photos = [people["bill_gates"][0], people["colin_powell"][0], people["alvaro_uribe"][0],
              people["bill_gates"][1], people["colin_powell"][1]]
    restartable.stop()  # away from the start: even the login waits
    answered: list[int] = []
    lines: list[str] = []
    with CameraClient(restartable.url, USERNAME, PASSWORD) as client:
        feeder = Feeder(client, FolderSource(folder_of(tmp_path, *photos)), interval=0.05, queue_size=2,
                        backoff=fast_backoff(), report=lines.append,
                        on_sent=lambda frame, result: answered.append(frame.number))
        runner = threading.Thread(target=feeder.run)
        runner.start()
        wait_for(lambda: feeder.stats.frames == 5)
        restartable.start()
        runner.join(30)

    assert answered == [4, 5]
    assert (feeder.stats.sent, feeder.stats.dropped) == (2, 3)
    assert upload_count(restartable.hub) == 2
    assert sum("dropped, the queue keeps the newest 2" in line for line in lines) == 3
    assert any("hub is back" in line for line in lines)


def test_gives_up_when_the_hub_stays_away(people, tmp_path):
    folder = folder_of(tmp_path, people["bill_gates"][0])
    with CameraClient(f"http://127.0.0.1:{free_port()}", USERNAME, PASSWORD) as client:
        feeder = Feeder(client, FolderSource(folder), interval=0.05, backoff=fast_backoff(), give_up_after=0.5)
        started = time.monotonic()
        with pytest.raises(GaveUp, match=r"gave up after 0\.[5-9] s: cannot reach the hub"):
            feeder.run()
    assert 0.5 <= time.monotonic() - started < 3
    assert feeder.stats.queued == 1


def test_stop_ends_a_looping_feed(camera, people, tmp_path):
    folder = folder_of(tmp_path, people["bill_gates"][0], people["colin_powell"][0])
    feeder = Feeder(camera, FolderSource(folder, loop=True), interval=0.05,
                    on_sent=lambda frame, result: feeder.stats.sent >= 3 and feeder.stop())
    stats = feeder.run()
    assert (stats.frames, stats.sent, stats.queued) == (3, 3, 0)


class FailsOnTinyImages:
    """The real engine, except that it fails on one-pixel-wide images: the hub then answers 500."""

    def __init__(self, engine) -> None:
        self._engine = engine

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def analyze_any_way_up(self, rgb, stopwatch=None):
        if rgb.shape[1] == 1:
            raise RuntimeError("this frame upsets the engine")
        return self._engine.analyze_any_way_up(rgb, stopwatch)


def test_a_frame_the_hub_keeps_failing_on_does_not_block_the_queue(settings, engine, people, tmp_path):
    hub = Hub(settings, engine=FailsOnTinyImages(engine))
    hub.accounts.register(USERNAME, PASSWORD)
    folder = folder_of(tmp_path, people["bill_gates"][0], people["colin_powell"][0])
    (folder / "01b_tiny.jpg").write_bytes(one_pixel_jpeg())
    lines: list[str] = []
    with BackgroundServer(create_app(hub), "127.0.0.1", 0) as server:
        with CameraClient(f"http://127.0.0.1:{server.port}", USERNAME, PASSWORD) as client:
            stats = Feeder(client, FolderSource(folder), interval=0, backoff=fast_backoff(),
                           report=lines.append).run()
    hub.close()
    assert (stats.sent, stats.rejected) == (2, 1)
    assert "frame 2 (01b_tiny.jpg): the hub answered 500: Internal server error (3 times), dropped" in lines[3]
    assert lines[4].endswith("frame 3 (02_colin_powell_01.jpg): unknown x1")


def test_several_cameras_feed_one_hub_at_once(live_server, account, hub, people, tmp_path):
    folders = [folder_of(tmp_path, photos[0], photos[1], name=person) for person, photos in people.items()]
    clients = [CameraClient(live_server, *account) for _ in folders]
    feeders = [Feeder(client, FolderSource(folder), interval=0.1) for client, folder in zip(clients, folders)]
    runners = [threading.Thread(target=feeder.run) for feeder in feeders]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(30)
    for client in clients:
        client.close()
    assert [feeder.stats.sent for feeder in feeders] == [2, 2, 2]
    assert upload_count(hub) == 6
