"""Where frames come from: a webcam, a video file, or a folder of photos.

A source is an iterable of `Frame`s (and, from a folder, `Unreadable` items for
files that are not photos). Each frame carries its JPEG bytes and a tiny
grayscale signature, so the feeder can tell a changed scene from the same one
without decoding anything again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from ..faces.image import MAX_PIXELS, InvalidImage, decode_image, encode_jpeg, image_size

SIGNATURE_SIDE = 32
JPEG_QUALITY = 90
JPEG_MAGIC = b"\xff\xd8\xff"
# The hub works on photos shrunk to 1600 px and refuses over 40 megapixels: a larger photo
# (a 48 MP phone picture) is sent shrunk to this, which also saves the network.
SEND_MAX_SIDE = 1920
PHOTO_MAX_PIXELS = 2 * MAX_PIXELS  # the camera's own photos: up to what Pillow opens at all
STALL_S = 10.0  # a camera silent this long has stopped


class SourceError(Exception):
    """The source cannot deliver frames (no such camera, unreadable video, no photos)."""


def signature(gray: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """A 32x32 grayscale thumbnail: enough to tell a changed scene from the same one."""
    return cv2.resize(gray, (SIGNATURE_SIDE, SIGNATURE_SIDE), interpolation=cv2.INTER_AREA)


def difference(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    """Mean absolute difference of two signatures, in grey levels (0-255)."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@dataclass(frozen=True, eq=False)
class Frame:
    number: int                   # 1, 2, ... in the order the source delivered them
    label: str                    # the file name, the time into a video, or "" for a webcam
    jpeg: bytes
    signature: NDArray[np.uint8]
    captured_at: float = field(default_factory=time.time)

    @classmethod
    def from_bgr(cls, number: int, label: str, image: NDArray[np.uint8]) -> "Frame":
        """A frame from an OpenCV image (BGR, or already gray)."""
        ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise SourceError("OpenCV could not encode a frame as JPEG")
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        return cls(number, label, buffer.tobytes(), signature(gray))

    @classmethod
    def from_photo(cls, number: int, label: str, data: bytes) -> "Frame":
        """A frame from a photo file: a JPEG the hub can take goes as it is; other formats,
        and photos larger than SEND_MAX_SIDE, become a JPEG of at most that size (upright).

        Raises InvalidImage when `data` is not a photo.
        """
        if data[:3] == JPEG_MAGIC and max(image_size(data)) <= SEND_MAX_SIDE:
            rgb = decode_image(data, max_side=4 * SIGNATURE_SIDE)  # validates; JPEG decodes at 1/8 scale
            jpeg = data
        else:
            rgb = decode_image(data, max_side=SEND_MAX_SIDE, max_pixels=PHOTO_MAX_PIXELS)
            jpeg = encode_jpeg(rgb, quality=JPEG_QUALITY)
        return cls(number, label, jpeg, signature(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)))


@dataclass(frozen=True)
class Unreadable:
    """A file in a photo folder that is not a photo."""

    label: str
    reason: str


class FolderSource:
    """The photos of a folder in name order (hidden files ignored); `loop` starts over at the end.

    A file that is not a photo is reported once (as `Unreadable`), not on every pass.
    """

    def __init__(self, folder: Path, loop: bool = False) -> None:
        self.folder = Path(folder)
        self.loop = loop
        if not self.folder.is_dir():
            raise SourceError(f"{self.folder} is not a folder")

    def files(self) -> list[Path]:
        return sorted(p for p in self.folder.iterdir() if p.is_file() and not p.name.startswith("."))

    def __iter__(self) -> Iterator[Frame | Unreadable]:
        number = 0
        reported: set[str] = set()
        while True:
            found = False
            for path in self.files():  # listed again on each pass: new photos join the loop
                try:
                    frame = Frame.from_photo(number + 1, path.name, path.read_bytes())
                except (InvalidImage, OSError) as exc:
                    if path.name not in reported:
                        reported.add(path.name)
                        reason = "not an image" if isinstance(exc, InvalidImage) else f"cannot be read ({exc})"
                        yield Unreadable(path.name, reason)
                    continue
                number += 1
                found = True
                yield frame
            if not found:
                raise SourceError(f"no photos in {self.folder}")
            if not self.loop:
                return


class VideoSource:
    """Frames of a video file, one every `every` seconds of video time (0: every frame)."""

    def __init__(self, path: Path, every: float = 0.0, loop: bool = False) -> None:
        self.path = Path(path)
        self.every = every
        self.loop = loop

    def _open(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            raise SourceError(f"cannot open the video {self.path}")
        return capture

    def __iter__(self) -> Iterator[Frame]:
        number = 0
        while True:
            capture = self._open()
            taken = 0
            try:
                fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
                index, next_at = -1, 0.0
                while capture.grab():  # grab without decoding to pixels; retrieve only the frames kept
                    index += 1
                    at = index / fps if fps > 0 else 0.0
                    if fps > 0 and at < next_at - 1e-6:
                        continue
                    ok, image = capture.retrieve()
                    if not ok:
                        continue
                    next_at = max(next_at + self.every, at)
                    number += 1
                    taken += 1
                    yield Frame.from_bgr(number, f"{at:.1f} s", image)
            finally:
                capture.release()
            if taken == 0:
                raise SourceError(f"no frames could be read from {self.path}")
            if not self.loop:
                return


class _NewestFrame:
    """Reads a capture on a thread of its own and keeps only the newest image.

    A driver buffers a few frames; read once a second, it would hand out frames
    that are seconds old. Reading continuously and keeping the last one does not.
    """

    def __init__(self, capture: cv2.VideoCapture) -> None:
        self.capture = capture
        self._changed = threading.Condition()
        self._image: NDArray[np.uint8] | None = None
        self._count = 0
        self._taken = 0
        self._ended = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="camera-reader", daemon=True)

    def _run(self) -> None:
        while not self._stopping:
            ok, image = self.capture.read()
            with self._changed:
                if not ok:
                    self._ended = True
                else:
                    self._image, self._count = image, self._count + 1
                self._changed.notify_all()
            if not ok:
                return

    def start(self) -> "_NewestFrame":
        self._thread.start()
        return self

    def next(self, timeout: float) -> NDArray[np.uint8] | None:
        """A frame newer than the last one returned; None once the capture ended or stalled."""
        with self._changed:
            self._changed.wait_for(lambda: self._count > self._taken or self._ended, timeout)
            if self._count == self._taken:
                return None
            self._taken = self._count
            return self._image

    def stop(self) -> bool:
        """Stop reading; True once the thread has finished (the capture may then be released)."""
        self._stopping = True
        self._thread.join(timeout=STALL_S)
        return not self._thread.is_alive()


class DeviceSource:
    """A webcam through OpenCV: `device` is its index (0 is the first camera) or a capture URL."""

    def __init__(self, device: int | str) -> None:
        self.device = device

    def __iter__(self) -> Iterator[Frame]:
        capture = cv2.VideoCapture(self.device)
        if not capture.isOpened():
            raise SourceError(f"cannot open camera {self.device}")
        reader = _NewestFrame(capture).start()
        try:
            number = 0
            while True:
                image = reader.next(timeout=STALL_S)
                if image is None:
                    raise SourceError(f"camera {self.device} stopped delivering frames")
                number += 1
                yield Frame.from_bgr(number, "", image)
        finally:
            if reader.stop():
                capture.release()
