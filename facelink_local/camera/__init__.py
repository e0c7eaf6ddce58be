"""The camera side: feed frames from a webcam, a video or a photo folder to a hub.

    client = CameraClient("http://127.0.0.1:5055", "alice", password)
    client.upload(jpeg_bytes).summary()            # "Bob (0.38), unknown x1"
    Feeder(client, FolderSource(folder), interval=1.0).run()
"""

from .client import CameraClient, CameraError, FrameRejected, HubUnreachable, LoginRefused, SeenFace, UploadResult
from .feeder import Backoff, Feeder, FeederStats, GaveUp
from .sources import DeviceSource, FolderSource, Frame, SourceError, Unreadable, VideoSource

__all__ = [
    "Backoff",
    "CameraClient",
    "CameraError",
    "DeviceSource",
    "Feeder",
    "FeederStats",
    "FolderSource",
    "Frame",
    "FrameRejected",
    "GaveUp",
    "HubUnreachable",
    "LoginRefused",
    "SeenFace",
    "SourceError",
    "Unreadable",
    "UploadResult",
    "VideoSource",
]
