"""Frame sources on real photos and real video files (no hub needed)."""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image

from facelink_local.camera import DeviceSource, FolderSource, Frame, SourceError, Unreadable, VideoSource
from facelink_local.camera.sources import difference

from .camera_helpers import reencoded, write_video

pytestmark = pytest.mark.faces


def test_folder_gives_photos_in_name_order_and_reports_other_files(tmp_path, people, shared_faces):
    (tmp_path / "b.jpg").write_bytes(people["bill_gates"][0].read_bytes())
    (tmp_path / "a.png").write_bytes((shared_faces / "edge" / "format_png_albert_einstein.png").read_bytes())
    (tmp_path / "c.txt").write_text("shopping list")
    (tmp_path / "d.jpg").write_bytes(b"")
    (tmp_path / ".hidden.jpg").write_bytes(people["bill_gates"][1].read_bytes())

    items = list(FolderSource(tmp_path))

    assert [(type(i).__name__, i.label) for i in items] == [
        ("Frame", "a.png"), ("Frame", "b.jpg"), ("Unreadable", "c.txt"), ("Unreadable", "d.jpg")]
    png, jpeg = items[0], items[1]
    assert png.jpeg[:3] == b"\xff\xd8\xff"                         # re-encoded as JPEG
    assert jpeg.jpeg == people["bill_gates"][0].read_bytes()        # a JPEG goes as it is
    assert [png.number, jpeg.number] == [1, 2]
    assert items[2].reason == "not an image"


def test_a_looping_folder_reports_a_bad_file_once(tmp_path, people):
    (tmp_path / "a.jpg").write_bytes(people["bill_gates"][0].read_bytes())
    (tmp_path / "b.txt").write_text("not a photo")
    source = iter(FolderSource(tmp_path, loop=True))
    items = [next(source) for _ in range(4)]
    assert [type(i) for i in items] == [Frame, Unreadable, Frame, Frame]
    assert [i.number for i in items if isinstance(i, Frame)] == [1, 2, 3]


def test_a_folder_without_photos_is_an_error(tmp_path):
    (tmp_path / "notes.txt").write_text("no photos here")
    with pytest.raises(SourceError, match="no photos in"):
        list(FolderSource(tmp_path))


def test_difference_tells_a_new_scene_from_the_same_one(tmp_path, people):
    original = Frame.from_photo(1, "a", people["bill_gates"][0].read_bytes())
    again = Frame.from_photo(2, "b", reencoded(people["bill_gates"][0], quality=60))
    same_person = Frame.from_photo(3, "c", people["bill_gates"][1].read_bytes())
    other_person = Frame.from_photo(4, "d", people["colin_powell"][0].read_bytes())
    assert difference(original.signature, original.signature) == 0
    assert difference(original.signature, again.signature) < 1.5     # well under the default 3
    assert difference(original.signature, same_person.signature) > 10
    assert difference(original.signature, other_person.signature) > 10


def test_video_frames_are_taken_every_interval_of_video_time(tmp_path, people):
    video = write_video(tmp_path / "walk.avi", [(people["bill_gates"][0], 10), (people["colin_powell"][0], 10)])

    frames = list(VideoSource(video, every=0.5))
    assert [f.label for f in frames] == ["0.0 s", "0.5 s", "1.0 s", "1.5 s"]
    assert difference(frames[0].signature, frames[1].signature) < 1
    assert difference(frames[1].signature, frames[2].signature) > 10
    assert len(list(VideoSource(video))) == 20


def test_a_file_that_is_no_video_is_an_error(tmp_path):
    (tmp_path / "clip.avi").write_text("not a video")
    with pytest.raises(SourceError, match="cannot open the video"):
        list(VideoSource(tmp_path / "clip.avi"))


def test_a_missing_camera_is_an_error():
    with pytest.raises(SourceError, match="cannot open camera 99"):
        next(iter(DeviceSource(99)))


def test_a_live_capture_gives_its_newest_frames_until_it_stops(tmp_path, people):
    """DeviceSource on a video file: the reader thread runs through it faster than frames are taken."""
    video = write_video(tmp_path / "live.avi", [(people["bill_gates"][0], 30)])
    frames = []
    with pytest.raises(SourceError, match="stopped delivering frames"):
        for frame in DeviceSource(str(video)):
            frames.append(frame)
    assert 1 <= len(frames) <= 30
    assert frames[0].jpeg[:3] == b"\xff\xd8\xff"


def test_a_photo_larger_than_the_hub_takes_is_sent_shrunk_and_upright(tmp_path, people):
    """A 48-megapixel phone photo, turned by EXIF: the hub refuses over 40 megapixels, so it
    goes as a JPEG of at most SEND_MAX_SIDE, the right way up."""
    portrait = Image.open(people["bill_gates"][0]).resize((6000, 8000))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # stored turned: the viewer turns it 90° clockwise
    portrait.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "phone.jpg", quality=80, exif=exif)

    (frame,) = FolderSource(tmp_path)

    assert Image.open(io.BytesIO(frame.jpeg)).size == (1440, 1920)
