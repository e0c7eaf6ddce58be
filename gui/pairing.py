"""The "Pair a new device" control: opens the hub's pairing window, during
which devices on the network may create an account, with a countdown."""

from __future__ import annotations

from .qt import QHBoxLayout, QPushButton, QTimer, QWidget
from .widgets import muted, named, set_role

PAIRING_MINUTES = 5.0


class PairingControl(QWidget):
    def __init__(self, ctx, compact: bool = False, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.button = named(QPushButton("&Pair a new device"), "Pair a new device",
                            f"For {PAIRING_MINUTES:g} minutes, devices on your network may create an account "
                            "on this hub. Otherwise only this computer can.")
        self.state = muted(wrap=not compact)
        self.state.setAccessibleName("Pairing state")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        layout.addWidget(self.state, 0 if compact else 1)
        self._compact = compact
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self.update_state)
        self.button.clicked.connect(self.toggle)
        ctx.bridge.pairing_changed.connect(lambda _event: self.update_state())
        self.update_state()

    def toggle(self) -> None:
        pairing = self.ctx.hub.pairing
        if pairing.is_open():
            pairing.close()
        else:
            pairing.open(PAIRING_MINUTES)
        self.update_state()

    def update_state(self) -> None:
        remaining = self.ctx.hub.pairing.remaining()
        if remaining > 0:
            minutes, seconds = divmod(int(remaining + 0.999), 60)
            self.button.setText("Stop &pairing")
            self.button.setAccessibleName("Stop pairing")
            text = (f"Pairing open, {minutes}:{seconds:02d} left" if self._compact else
                    f"Pairing is open for {minutes}:{seconds:02d}: a device on your network may now create "
                    "its account.")
            self.state.setText(text)
            set_role(self.state, "ok")
            if not self._tick.isActive():
                self._tick.start()
        else:
            self.button.setText("&Pair a new device")
            self.button.setAccessibleName("Pair a new device")
            self.state.setText("" if self._compact else
                               "Pairing is closed: only this computer can create accounts.")
            set_role(self.state, "muted")
            self._tick.stop()

