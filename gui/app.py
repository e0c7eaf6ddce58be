"""The desktop app: `DesktopApp` ties the hub, the embedded server, the
wearable and the window together; `run()` is `facelink gui`.

Threads: the GUI thread owns every widget. The server runs on its own thread
(`EmbeddedServer`), the wearable's link on its own, and blocking service calls
on `Tasks` workers. Events from those threads reach widgets only as signals of
`HubBridge`.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from facelink_local import __version__
from facelink_local.hub import Hub
from facelink_local.server import bind_error

from .bridge import HubBridge
from .embedded import EmbeddedServer
from .prefs import Prefs
from .qt import QApplication, QIcon, QObject, QSocketNotifier, QSystemTrayIcon, QTimer, Signal
from .tasks import Tasks

log = logging.getLogger(__name__)

ICON = "facelink.png"


def icon_path() -> Path | None:
    """The app icon, from the repository's assets/ or a packaged app's bundle."""
    roots = [Path(__file__).resolve().parent.parent / "assets"]
    if hasattr(sys, "_MEIPASS"):
        roots.insert(0, Path(sys._MEIPASS) / "assets")
    return next((root / ICON for root in roots if (root / ICON).is_file()), None)


class DesktopApp(QObject):
    """The app's state and actions, shared by every view.

    `haptics` is a started `HapticBridge`, or None until a serial port is
    chosen. `finished` fires when the app has shut down and the event loop may end.
    """

    user_changed = Signal()
    server_changed = Signal()
    haptics_changed = Signal()
    contacts_changed = Signal()
    message = Signal(str)       # a short notice for the status bar
    finished = Signal()

    def __init__(self, hub: Hub, host: str = "127.0.0.1", port: int = 0, *, haptics=None,
                 prefs: Prefs | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self.prefs = prefs if prefs is not None else Prefs.load(hub.settings.data_dir)
        self.server = EmbeddedServer(hub, host, port)
        self.server_error: str | None = None
        self.haptics = haptics
        self.tasks = Tasks(self)
        self.bridge = HubBridge(hub.events, self)
        self.user_id: int | None = None
        self.username: str | None = None
        self.window = None
        self.tray: QSystemTrayIcon | None = None
        self._shut_down = False

    # --- lifecycle -------------------------------------------------------------------

    def start(self, show: bool = True):
        """Serve, pick the account, open the window; returns the window."""
        from .main_window import MainWindow

        try:
            self.server.start()
        except OSError as exc:
            self.server_error = port_error(self.server.requested_port, exc)
            log.error("%s", self.server_error)
        self._restore_account()
        self.window = MainWindow(self)
        if show:
            self.window.show()
        return self.window

    def _restore_account(self) -> None:
        name = self.prefs.username
        user_id = self.hub.accounts.user_id_for(name) if name else None
        if user_id is not None:
            self.user_id, self.username = user_id, name

    def use_account(self, username: str) -> None:
        user_id = self.hub.accounts.user_id_for(username)
        if user_id is None:
            raise ValueError(f"no account named {username!r}")
        self.user_id, self.username = user_id, username
        self.save_prefs(username=username)
        self.user_changed.emit()

    def save_prefs(self, **changes) -> None:
        self.prefs = self.prefs.with_(**changes)
        try:
            self.prefs.save(self.hub.settings.data_dir)
        except OSError as exc:
            self.message.emit(f"Could not save the app's preferences: {exc}")

    @property
    def tray_available(self) -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def quit(self) -> None:
        """Stop everything and end the app (the window's close, Ctrl+C, the tray's Quit)."""
        self.shutdown()
        self.finished.emit()

    def shutdown(self) -> None:
        """Stop serving and talking to the wearable; idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        self.server.stop()
        if self.haptics is not None:
            self.haptics.stop()
        self.tasks.wait()
        self.bridge.close()
        if self.tray is not None:
            self.tray.hide()

    # --- actions the views share -------------------------------------------------------

    def change_port(self, port: int, done: Callable[[str, bool], None]) -> None:
        """Serve on `port` from now on (and at the next start); `done(message, ok)`."""

        def restarted(new_port: int) -> None:
            self.server_error = None
            self.save_prefs(port=new_port)
            self.server_changed.emit()
            done(f"The hub now serves on port {new_port}.", True)

        def refused(exc: BaseException) -> None:
            where = f"it keeps serving on port {self.server.port}" if self.server.running else "it is not serving"
            done(f"{port_error(port, exc)} The hub did not move: {where}.", False)

        self.tasks.run(self.server.restart, port, done=restarted, failed=refused)

    def follow_serial_setting(self, done: Callable[[], None] | None = None) -> None:
        """Start the wearable's bridge when a serial port is set and none runs yet;
        stop it when the setting was cleared. A running bridge follows the setting itself."""
        port = self.hub.tuning.current.serial_port
        if port and self.haptics is None:
            from firmware_bridge.haptics import HapticBridge

            self.haptics = HapticBridge.for_hub(self.hub).start()
            self.haptics_changed.emit()
        elif not port and self.haptics is not None:
            bridge, self.haptics = self.haptics, None
            self.tasks.run(bridge.stop, done=lambda _: self.haptics_changed.emit())
        if done is not None:
            done()

    def wearable_summary(self) -> tuple[str, bool]:
        """("Connected on /dev/ttyACM0", True) or why not, for the views."""
        bridge = self.haptics
        if bridge is None:
            return "Wearable not connected: no serial port is chosen (Status → Settings).", False
        port = self.hub.tuning.current.serial_port or "auto"
        if bridge.state == "connected":
            device = bridge.link.device
            name = f" ({device.name})" if device is not None else ""
            return f"Wearable connected on {bridge.link.port or port}{name}.", True
        detail = bridge.detail or bridge.state
        return f"Wearable not connected ({port}): {detail}.", False

    def test_on_wearable(self, pattern: int, done: Callable[[str, bool], None]) -> None:
        """Play `pattern` once on the wearable; `done(message, ok)` says what happened."""
        bridge = self.haptics
        if bridge is None:
            done("Not sent: the wearable is not connected. Choose its serial port under Status → Settings.",
                 False)
            return

        def answered(result) -> None:
            if result.ok and result.status == "silent":
                done("Nothing to play: this pattern is silent.", True)
            elif result.ok:
                done("Played on the wearable.", True)
            elif result.status == "not_connected":
                done(f"Not sent: the wearable is not connected ({result.detail}).", False)
            else:
                done(f"The wearable did not play it: {result.detail or result.status}.", False)

        self.tasks.run(bridge.test_pattern, pattern, done=answered,
                       failed=lambda exc: done(f"Not sent: {exc}", False))


def port_error(port: int, exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return bind_error(port, exc)
    return f"Could not serve on port {port}: {exc}."


class _SignalWaker:
    """Lets Python signal handlers (Ctrl+C) run while Qt's event loop waits.

    Python runs a signal handler only when the interpreter gets control; a
    socket written by the C-level handler wakes a QSocketNotifier, which does that.
    """

    def __init__(self, app: QApplication, on_signal: Callable[[], None]) -> None:
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, app)
        self._notifier.activated.connect(self._drain)
        self._previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, lambda *_: on_signal())

    def _drain(self) -> None:
        try:
            while self._reader.recv(64):
                pass
        except BlockingIOError:
            pass

    def close(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._notifier.setEnabled(False)
        self._reader.close()
        self._writer.close()


def run(hub: Hub, host: str, port: int, haptics=None, *, port_from_prefs: bool = False,
        argv: list[str] | None = None, echo: Callable[[str], None] = print) -> int:
    """Open the app on `hub` and run until it quits; returns the exit code.

    `port_from_prefs`: the port was not given on the command line, so the one
    chosen in the app last time (if any) wins.
    """
    from . import theme

    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName("FaceLink")
    app.setApplicationDisplayName("FaceLink")
    app.setApplicationVersion(__version__)
    app.setQuitOnLastWindowClosed(False)  # the app decides: quit, or keep serving from the tray
    icon = icon_path()
    if icon is not None:
        app.setWindowIcon(QIcon(str(icon)))
    theme.apply(app)

    prefs = Prefs.load(hub.settings.data_dir)
    if port_from_prefs and prefs.port:
        port = prefs.port
    desktop = DesktopApp(hub, host, port, haptics=haptics, prefs=prefs)
    desktop.finished.connect(app.quit)
    # The handler runs between two Python bytecodes, maybe in the middle of
    # building the window: it only schedules the quit, which runs in the event loop.
    waker = _SignalWaker(app, lambda: QTimer.singleShot(0, desktop, desktop.quit))
    try:
        desktop.start()
        if desktop.server.running:
            echo("Devices on your network can reach the hub at:")
            for url in desktop.server.urls():
                echo(f"  {url}")
        else:
            echo(f"Not serving: {desktop.server_error}")
        code = app.exec()
    finally:
        desktop.shutdown()
        waker.close()
    echo("FaceLink closed.")
    return code
