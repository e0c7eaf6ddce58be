"""The hub: settings, storage, face engine, events and services, wired once.

Both the HTTP API and the desktop app use a `Hub`; neither touches SQLite or
the models directly.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

from .auth.tokens import TokenIssuer
from .config import Settings, prepare_data_dir
from .events import EventHub
from .faces import FaceEngine, make_engine
from .services.accounts import AccountService
from .services.contacts import ContactService
from .services.gallery import GalleryCache
from .services.pairing import PairingWindow
from .services.privacy import PrivacyService
from .services.reembed import ReembedService, ReembedStatus
from .services.throttle import LoginThrottle
from .services.timeline import TimelineService
from .services.tuning import TuningService
from .services.uploads import UploadService
from .store import Store

log = logging.getLogger(__name__)


def limit_native_threads() -> None:
    """One BLAS thread: on 2 cores, default threading made linear algebra 10-100x slower."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


MALLOC_ARENAS = 2
M_ARENA_MAX = -8  # glibc's mallopt parameter


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """At most `arenas` glibc malloc arenas (unless MALLOC_ARENA_MAX says otherwise).

    glibc gives threads that allocate at once arenas of their own, up to 8 per
    core, and memory freed in one is seldom given back: under load the hub's
    resident memory crept up by about 70 MiB a minute, spread over the worker
    threads' arenas; with two it stays flat (docs/reliability.md). Does nothing
    where the C library is not glibc.
    """
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return False
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # musl and friends have no such knob
        return False


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
        limit_malloc_arenas()
        self.store = Store(settings.db_path)
        self.events = EventHub()
        self.tokens = TokenIssuer(settings.secret_path, settings.access_token_ttl, settings.refresh_token_ttl)
        self.engine = engine or make_engine(settings.engine, **engine_options(settings))
        self.tuning = TuningService(self.store)
        self.gallery = GalleryCache(self.store)
        # The desktop app opens this for a few minutes to let LAN devices register.
        self.pairing = PairingWindow(self.events.publish)
        self.accounts = AccountService(self.store, self.tokens, settings.bcrypt_rounds,
                                       LoginThrottle.from_settings(settings), self.pairing, self.gallery)
        self.contacts = ContactService(self.store, self.gallery)
        self.uploads = UploadService(self.store, self.engine, self.events, self.tuning, self.gallery,
                                     settings.max_decode_side)
        self.timeline = TimelineService(self.store, self.tuning, self.engine.id)
        # Stored faces of another engine that cuts the same chips are re-embedded in the background.
        self.reembed = ReembedService(self.store, self.engine, self.events, self.gallery)
        self.timeline.shown_engines = lambda: [self.engine.id, *self.reembed.sources()]
        self.timeline.hold_new_faces = self.reembed.pending_for
        self.privacy = PrivacyService(self.store, self.gallery)

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
