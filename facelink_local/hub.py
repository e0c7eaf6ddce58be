"""The hub: settings, storage, face engine, events and services, wired once.

Both the HTTP API and the desktop app use a `Hub`; neither touches SQLite or
the models directly.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .auth.tokens import TokenIssuer
from .config import Settings
from .events import EventHub
from .faces import FaceEngine, make_engine
from .services.accounts import AccountService
from .services.contacts import ContactService
from .services.gallery import GalleryCache
from .services.pairing import PairingWindow
from .services.reembed import ReembedService, ReembedStatus
from .services.throttle import LoginThrottle
from .services.timeline import TimelineService
from .services.tuning import TuningService
from .services.uploads import UploadService
from .store import Store

log = logging.getLogger(__name__)


def prepare_data_dir(path: Path) -> Path:
    """Create the data folder, owner-only: it holds biometric data."""
    path = Path(path).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def limit_native_threads() -> None:
    """One BLAS thread: on 2 cores, default threading made linear algebra 10-100x slower."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def engine_options(settings: Settings) -> dict:
    """What `make_engine` needs from the settings; the ONNX model is cached in the data folder."""
    options: dict = {"min_face_px": settings.min_face_px}
    if settings.engine == "onnx":
        options["cache_dir"] = settings.data_dir
    return options


class Hub:
    def __init__(self, settings: Settings, engine: FaceEngine | None = None) -> None:
        self.settings = settings
        prepare_data_dir(settings.data_dir)
        limit_native_threads()
        self.store = Store(settings.db_path)
        self.events = EventHub()
        self.tokens = TokenIssuer(settings.secret_path, settings.access_token_ttl, settings.refresh_token_ttl)
        self.engine = engine or make_engine(settings.engine, **engine_options(settings))
        self.tuning = TuningService(self.store)
        self.gallery = GalleryCache(self.store)
        # The desktop app opens this for a few minutes to let LAN devices register.
        self.pairing = PairingWindow(self.events.publish)
        self.accounts = AccountService(self.store, self.tokens, settings.bcrypt_rounds,
                                       LoginThrottle.from_settings(settings), self.pairing)
        self.contacts = ContactService(self.store, self.gallery)
        self.uploads = UploadService(self.store, self.engine, self.events, self.tuning, self.gallery,
                                     settings.max_decode_side)
        self.timeline = TimelineService(self.store, self.tuning, self.engine.id)
        # Stored faces of another engine that cuts the same chips are re-embedded in the background.
        self.reembed = ReembedService(self.store, self.engine, self.events, self.gallery)
        self.timeline.shown_engines = lambda: [self.engine.id, *self.reembed.sources()]
        self.timeline.hold_new_faces = self.reembed.pending_for

    def warm_up(self) -> None:
        """Load the face models now rather than on the first upload."""
        self.engine.load()

    def start_background_work(self) -> ReembedStatus:
        """What the hub does while it serves: re-embed stored faces of another engine (see `reembed`)."""
        return self.reembed.start()

    def switch_engine(self, name: str) -> ReembedStatus:
        """Use another face engine from now on (the desktop app's setting); blocks while its models load.

        Uploads already running finish with the old engine. Stored faces are
        re-embedded for the new one in the background (progress: the
        `ReembedProgress` events, or `reembed.status()`); faces the new engine
        cannot re-embed stay dormant (README, "The face engine").
        """
        settings = self.settings.with_(engine=name)
        engine = make_engine(name, **engine_options(settings))
        engine.load()
        self.settings, self.engine = settings, engine
        self.uploads.engine = engine
        self.timeline.engine_id = engine.id
        return self.reembed.retarget(engine)

    def close(self) -> None:
        self.reembed.stop()
        self.store.close()
