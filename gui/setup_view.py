"""First run: the account the wearable logs in with, then where it connects.

Step 1 creates the account (or picks one made before). Step 2 shows the
address and port a device must use, with a QR code of it, and the pairing
button for devices that create their own account.
"""

from __future__ import annotations

from .connect_panel import ConnectPanel
from .pairing import PairingControl
from .qt import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .widgets import heading, line_height, muted, named, primary, set_role


class SetupView(QWidget):
    """`done` fires when the user leaves the setup for the main views."""

    done = Signal()

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        lh = line_height(self)
        self.steps = QStackedWidget()
        self.steps.addWidget(self._account_step())
        self.steps.addWidget(self._connect_step())

        panel = QFrame()
        panel.setObjectName("card")
        panel_layout = QVBoxLayout(panel)
        margin = round(lh * 1.8)
        panel_layout.setContentsMargins(margin, margin, margin, margin)
        panel_layout.addWidget(self.steps)
        panel.setMaximumWidth(lh * 42)

        body = QWidget()
        body.setObjectName("scrollBody")
        outer = QHBoxLayout(body)
        outer.setContentsMargins(lh, lh, lh, lh)
        outer.addStretch(1)
        column = QVBoxLayout()
        column.addStretch(1)
        column.addWidget(panel)
        column.addStretch(2)
        outer.addLayout(column, 8)
        outer.addStretch(1)
        scroll = QScrollArea()  # very large text scrolls instead of being cut off
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

    # --- step 1: the account --------------------------------------------------------------

    def _account_step(self) -> QWidget:
        page = QWidget()
        self.step_label = muted("Step 1 of 2")
        title = heading("Welcome to FaceLink", 1)
        intro = QLabel("Your wearable logs in to this computer with an account. Create it here, or use one "
                       "you made before. Everything stays on this computer.")
        intro.setWordWrap(True)

        self.create_choice = named(QRadioButton("Create a &new account"), "Create a new account")
        self.existing_choice = named(QRadioButton("Use an &existing account"), "Use an existing account")
        self.username = named(QLineEdit(), "Account name", "The name the wearable logs in with")
        self.username.setMaxLength(64)
        self.password = named(QLineEdit(), "Password", "At least 8 characters, of at least 3 different ones")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat = named(QLineEdit(), "Repeat the password")
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.existing = named(QComboBox(), "Existing accounts")
        self.account_button = primary(named(QPushButton("&Continue"), "Continue"))
        self.account_error = muted()
        self.account_error.setAccessibleName("Problem with the account")

        self.create_form = QWidget()
        form = QFormLayout(self.create_form)
        form.setContentsMargins(round(line_height(page) * 1.5), 0, 0, 0)
        for text, field in (("Account &name:", self.username), ("&Password:", self.password),
                            ("Re&peat password:", self.repeat)):
            label = QLabel(text)
            label.setBuddy(field)
            form.addRow(label, field)
        form.addRow("", muted("At least 8 characters, of at least 3 different ones. The wearable keeps the name and password to log in."))
        self.existing_form = QWidget()
        existing_form = QFormLayout(self.existing_form)
        existing_form.setContentsMargins(round(line_height(page) * 1.5), 0, 0, 0)
        label = QLabel("&Account:")
        label.setBuddy(self.existing)
        existing_form.addRow(label, self.existing)

        buttons = QHBoxLayout()
        buttons.addWidget(self.account_error, 1)
        buttons.addWidget(self.account_button)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(round(line_height(page) * 0.7))
        layout.addWidget(self.step_label)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(self.create_choice)
        layout.addWidget(self.create_form)
        layout.addWidget(self.existing_choice)
        layout.addWidget(self.existing_form)
        layout.addStretch(1)
        layout.addLayout(buttons)

        self.create_choice.toggled.connect(self._choice_changed)
        self.existing_choice.toggled.connect(self._choice_changed)
        self.account_button.clicked.connect(self._continue)
        for field in (self.username, self.password, self.repeat):
            field.returnPressed.connect(self._continue)
        return page

    def reset(self) -> None:
        """Show step 1 with the accounts there are now."""
        names = self.ctx.hub.accounts.usernames()
        self.existing.clear()
        self.existing.addItems(names)
        if self.ctx.username in names:
            self.existing.setCurrentText(self.ctx.username)
        self.existing_choice.setVisible(bool(names))
        self.create_choice.setVisible(bool(names))  # a choice only when there is one
        indent = round(line_height(self) * 1.5) if names else 0
        self.create_form.layout().setContentsMargins(indent, 0, 0, 0)
        (self.existing_choice if names else self.create_choice).setChecked(True)
        self._choice_changed()
        self.password.clear()
        self.repeat.clear()
        self.account_error.clear()
        self.account_button.setEnabled(True)
        self.steps.setCurrentIndex(0)
        (self.existing if names else self.username).setFocus()

    def _choice_changed(self) -> None:
        creating = self.create_choice.isChecked() or not self.existing_choice.isVisible()
        self.create_form.setVisible(creating)
        self.existing_form.setVisible(not creating and self.existing_choice.isVisible())

    def _error(self, text: str) -> None:
        self.account_error.setText(text)
        set_role(self.account_error, "bad")
        self.account_button.setEnabled(True)

    def _continue(self) -> None:
        if self.existing_choice.isChecked() and self.existing_choice.isVisible():
            name = self.existing.currentText()
            if name:
                self._use(name)
            return
        name, password = self.username.text().strip(), self.password.text()
        if not name:
            self._error("Choose a name for the account.")
            self.username.setFocus()
            return
        if password != self.repeat.text():
            self._error("The two passwords differ.")
            self.repeat.setFocus()
            return
        self.account_button.setEnabled(False)
        self.account_error.setText("Creating the account…")
        set_role(self.account_error, "muted")

        def refused(exc: BaseException) -> None:
            message = getattr(exc, "message", str(exc))
            self._error(f"{message[:1].upper()}{message[1:]}.")

        self.ctx.tasks.run(self.ctx.hub.accounts.register, name, password, write=True,
                           done=lambda _tokens: self._use(name), failed=refused, context=self)

    def _use(self, name: str) -> None:
        self.ctx.use_account(name)
        self.steps.setCurrentIndex(1)
        self.finish_button.setFocus()

    # --- step 2: where devices connect ------------------------------------------------

    def _connect_step(self) -> QWidget:
        page = QWidget()
        title = heading("Connect your wearable", 1)
        intro = QLabel("On the wearable (or its phone app), enter this address and the account. "
                       "Or scan the code with the device's camera.")
        intro.setWordWrap(True)
        self.panel = ConnectPanel(self.ctx, "Keep FaceLink open while the wearable is in use: the hub serves "
                                            "from this window.")
        self.pairing = PairingControl(self.ctx)
        pairing_note = muted("The wearable only logs in. A device that creates its own account from the network "
                             "needs pairing open for a few minutes.")
        self.back_button = named(QPushButton("&Back"), "Back to the account")
        self.finish_button = primary(named(QPushButton("&Open FaceLink"), "Open FaceLink"))

        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.finish_button)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(round(line_height(page) * 0.7))
        layout.addWidget(muted("Step 2 of 2"))
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(self.panel)
        layout.addWidget(self.pairing)
        layout.addWidget(pairing_note)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.back_button.clicked.connect(self.reset)
        self.finish_button.clicked.connect(self.done.emit)
        return page
