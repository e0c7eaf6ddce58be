"""Where a device connects: the hub's address, big, with the port, the other
addresses, the account, and a QR code of the address (setup and Status)."""

from __future__ import annotations

from .qt import QHBoxLayout, QLabel, Qt, QVBoxLayout, QWidget
from .widgets import QrCode, muted, scaled_font, set_role


class ConnectPanel(QWidget):
    """`text_column` is the layout beside the QR code; callers may add to it."""

    def __init__(self, ctx, serving_note: str, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.serving_note = serving_note
        self.address = QLabel()
        self.address.setFont(scaled_font(self.address.font(), 1.4, bold=True))
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                             | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.address.setAccessibleName("The hub's address for devices")
        self.address.setWordWrap(True)
        self.others = muted()
        self.others.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.others.setAccessibleName("The port, and other addresses")
        self.account = QLabel()
        self.account.setAccessibleName("Account for the wearable")
        self.note = muted()
        self.note.setAccessibleName("Server state")
        self.qr = QrCode()

        self.text_column = QVBoxLayout()
        for widget in (self.address, self.others, self.account, self.note):
            self.text_column.addWidget(widget)
        self.text_column.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.text_column, 1)
        layout.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignTop)
        ctx.server_changed.connect(self.update_address)
        ctx.user_changed.connect(self.update_address)
        self.update_address()

    def update_address(self) -> None:
        server = self.ctx.server
        urls = server.urls()
        if server.running and urls:
            self.address.setText(urls[0])
            also = f"  ·  also {', '.join(urls[1:])}" if urls[1:] else ""
            self.others.setText(f"Port {server.port}{also}")
            self.qr.set_text(urls[0])
            self.qr.show()
            if server.lan_reachable:
                self.note.setText(self.serving_note)
                set_role(self.note, "muted")
            else:
                self.note.setText(f"Only this computer can connect: the hub listens on {server.host}. "
                                  "Start FaceLink with --host 0.0.0.0 to let devices on your network in.")
                set_role(self.note, "bad")
        else:
            self.address.setText("Not serving")
            self.others.setText("")
            self.qr.hide()
            self.note.setText(self.ctx.server_error or "The hub is not serving.")
            set_role(self.note, "bad")
        username = self.ctx.username
        self.account.setText(f"Account: {username}" if username else "No account chosen yet.")
