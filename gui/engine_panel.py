"""The face engine setting in Status: choose the engine, watch stored faces
being re-embedded for it, and read plainly how that ended.

`Hub.switch_engine` loads the new engine's models (seconds) on a worker
thread, then starts the hub's background job that re-embeds stored faces from
their aligned chips; its `ReembedProgress` events reach this panel through the
bridge. The hub does not keep a switch made at run time, so the panel saves
the choice in the app's prefs (`desktop.json`); `facelink gui` starts with it
next time unless `--engine` or FACELINK_ENGINE says otherwise.
"""

from __future__ import annotations

from facelink_local.faces import ENGINES

from .qt import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .widgets import line_height, muted, named, set_role

# name: (what the choice says, what a sentence calls it)
CHOICES = {
    "onnx": ("Fast (ONNX), recommended", "the fast engine"),
    "dlib": ("Reference (dlib)", "the reference engine"),
}


def choice_text(name: str) -> str:
    return CHOICES.get(name, (name, name))[0]


def engine_words(name: str) -> str:
    return CHOICES.get(name, (name, f"the {name} engine"))[1]


def faces(count: int) -> str:
    return f"{count} stored face" + ("" if count == 1 else "s")


def load_notes(hub, user_id: int | None) -> dict:
    """Worker thread: faces the engine cannot use, and contacts it cannot recognize."""
    _, dormant = hub.reembed.plan()
    needing = hub.reembed.contacts_needing_faces(user_id) if user_id is not None else []
    names = {c["cid"]: c["name"] for c in hub.contacts.list(user_id)} if needing else {}
    return {"dormant": sum(dormant.values()), "needing": [names.get(cid, f"#{cid}") for cid in needing]}


class EnginePanel(QWidget):
    """`settled(ReembedStatus)` fires once a switch has ended (re-embedded, nothing to do, or failed);
    `switch_failed(message)` when the engine could not be switched at all."""

    settled = Signal(object)
    switch_failed = Signal(str)

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._loading: str | None = None   # the engine whose models are loading
        self._switching = False            # a switch is under way until its job ends
        self.confirm: QMessageBox | None = None

        self.about = muted("Both engines find the same faces and recognize them the same way; the fast one is "
                           "more than ten times quicker per face (docs/engines.md). After a switch, the faces "
                           "already stored are re-embedded in the background while the hub keeps serving.")
        self.choice = named(QComboBox(), "Face engine",
                            "Fast (ONNX) runs dlib's face descriptor on onnxruntime: the same results, much "
                            "quicker. Reference (dlib) runs dlib itself. Press Use this engine to switch.")
        for name in [n for n in CHOICES if n in ENGINES] + sorted(set(ENGINES) - set(CHOICES)):
            self.choice.addItem(choice_text(name), name)
        label = QLabel("Face &engine:")
        label.setBuddy(self.choice)
        self.use_button = named(QPushButton("Use th&is engine"), "Use this engine",
                                "Switch to the chosen engine now; stored faces are re-embedded for it")
        self.in_use = muted()
        self.in_use.setAccessibleName("Face engine in use")
        self.in_use.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)  # the words go beside it, in the text colours
        self.progress.setAccessibleName("Re-embedding stored faces")
        self.progress_text = QLabel()
        self.progress_text.setWordWrap(True)
        self.progress_text.setAccessibleName("Re-embedding progress")
        self.result = muted()
        self.result.setAccessibleName("Face engine result")
        self.notes = muted()
        self.notes.setAccessibleName("Face engine notes")
        self.purge_button = named(QPushButton("Delete unused faces…"), "Delete unused faces",
                                  "Delete the stored faces this engine cannot use (it asks first)")

        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.choice)
        row.addStretch(1)
        use_row = QHBoxLayout()
        use_row.addWidget(self.use_button)
        use_row.addWidget(self.in_use, 1)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.progress_text, 2)
        purge_row = QHBoxLayout()
        purge_row.addWidget(self.purge_button)
        purge_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(round(line_height(self) * 0.45))
        layout.addWidget(self.about)
        layout.addLayout(row)
        layout.addLayout(use_row)
        layout.addLayout(progress_row)
        layout.addWidget(self.result)
        layout.addWidget(self.notes)
        layout.addLayout(purge_row)
        self.setTabOrder(self.choice, self.use_button)
        self.setTabOrder(self.use_button, self.purge_button)

        self.choice.currentIndexChanged.connect(lambda _i: self._show_choice())
        self.use_button.clicked.connect(self.switch)
        self.purge_button.clicked.connect(self.ask_purge)
        ctx.bridge.reembed_progress.connect(self._progress)
        ctx.user_changed.connect(self.refresh)
        self._show_engine()
        self._show_status(ctx.hub.reembed.status())
        self._show_notes({"dormant": 0, "needing": []})

    # --- what is shown -------------------------------------------------------------------

    @property
    def current(self) -> str:
        """The name (a key of ENGINES) of the engine the hub runs."""
        return self.ctx.hub.engine.name

    def _show_engine(self) -> None:
        hub = self.ctx.hub
        self.choice.setCurrentIndex(max(0, self.choice.findData(self.current)))
        self.in_use.setText(f"In use: {choice_text(self.current)}.")
        self.in_use.setToolTip(f"Engine id: {hub.engine.id}")
        self.in_use.setAccessibleDescription(f"Engine id: {hub.engine.id}")
        self._show_choice()

    def _show_choice(self) -> None:
        chosen = self.choice.currentData()
        self.use_button.setEnabled(self._loading is None and chosen is not None and chosen != self.current)

    def _show_status(self, status) -> None:
        """A re-embedding status: the bar while it runs, a sentence when it ends."""
        words = engine_words(self.current)
        if status.running:
            self.progress.setRange(0, max(1, status.total))
            self.progress.setValue(status.done + status.skipped)
            text = f"Re-embedding stored faces for {words}: {status.done + status.skipped} of {status.total}."
            self._set_progress(text)
            self.result.setText("Recognition carries on meanwhile; contacts come first.")
            set_role(self.result, "muted")
            self.result.show()
            return
        self.progress.hide()
        self.progress_text.hide()
        if status.state == "done" and status.total:
            skipped = (f" {faces(status.skipped)} could not be read and stay unused." if status.skipped else "")
            self._say(f"Done: {faces(status.done)} re-embedded; {words} is in use.{skipped}", True)
        elif status.state == "failed":
            self._say(f"Re-embedding failed: {status.error}. Faces not re-embedded yet are not compared; "
                      "the hub tries again at its next start.", False)
        elif status.state == "stopped":
            self._say(f"Re-embedding stopped after {status.done} of {status.total}; "
                      "the rest is done at the next start.", False)
        elif self._switching:
            self._say(f"Done: {words} is in use. No stored faces needed re-embedding.", True)
        else:
            self.result.setText("")
            self.result.hide()

    def _set_progress(self, text: str) -> None:
        self.progress_text.setText(text)
        self.progress.setAccessibleDescription(text)
        self.progress.show()
        self.progress_text.show()

    def _say(self, text: str, ok: bool) -> None:
        self.result.setText(text)
        set_role(self.result, "ok" if ok else "bad")
        self.result.show()

    def refresh(self) -> None:
        """Reload the notes (faces this engine cannot use, contacts it cannot recognize)."""
        if self.ctx.hub.reembed.status().running or self._loading is not None:
            return  # contacts not re-embedded yet would show as needing faces
        self.ctx.tasks.run(load_notes, self.ctx.hub, self.ctx.user_id, done=self._show_notes, context=self)

    def _show_notes(self, notes: dict) -> None:
        lines = []
        if notes["dormant"]:
            lines.append(f"{faces(notes['dormant'])} were made with another face finder: they are kept, "
                         "never compared, and used again if you switch back to it.")
        needing = notes["needing"]
        if needing:
            who = ", ".join(needing[:5]) + (f" and {len(needing) - 5} more" if len(needing) > 5 else "")
            lines.append(f"Not recognized with this engine until they get new photos: {who}.")
        self.notes.setText(" ".join(lines))
        self.notes.setVisible(bool(lines))
        self.purge_button.setVisible(bool(notes["dormant"]))

    # --- switching -----------------------------------------------------------------------

    def switch(self) -> None:
        name = self.choice.currentData()
        if name is None or name == self.current or self._loading is not None:
            return
        self._loading = name
        self._switching = True
        self.choice.setEnabled(False)
        self._show_choice()
        self.progress.setRange(0, 0)  # busy: loading takes a few seconds, with no steps to count
        self._set_progress(f"Loading {engine_words(name)}…")
        self.result.setText("")
        self.result.hide()
        self.ctx.tasks.run(self.ctx.hub.switch_engine, name, done=self._switched, failed=self._refused, context=self)

    def _switched(self, status) -> None:
        name, self._loading = self._loading, None
        self.ctx.save_prefs(engine=name)
        self.choice.setEnabled(True)
        self._show_engine()
        self.ctx.message.emit(f"Now using {engine_words(name)}.")
        # Events of the new job may have come while loading; the hub's status is the latest word.
        self._progress_status(self.ctx.hub.reembed.status())

    def _refused(self, exc: BaseException) -> None:
        name, self._loading = self._loading, None
        self._switching = False
        self.choice.setEnabled(True)
        self._show_engine()
        self.progress.hide()
        self.progress_text.hide()
        text = f"Could not switch to {engine_words(name)}: {exc}. Still using {engine_words(self.current)}."
        self._say(text, False)
        self.switch_failed.emit(text)

    def _progress(self, event) -> None:
        if self._loading is not None:
            return  # the old engine's job stopping; the new one's status is read when it is loaded
        self._progress_status(event.status)

    def _progress_status(self, status) -> None:
        if status.engine != self.ctx.hub.engine.id:
            return  # a late word from a job for the engine used before
        self._show_status(status)
        if not status.running:
            if self._switching:
                self._switching = False
                self.settled.emit(status)
            self.refresh()

    # --- faces of another face finder ----------------------------------------------------------

    def ask_purge(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Delete unused faces?", "Delete unused faces?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setInformativeText("The stored faces made with another face finder will be deleted. Contacts "
                               "that have only such faces will need new photos to be recognized. "
                               "This cannot be undone.")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText("&Delete them")
        box.setAccessibleName("Confirm deleting unused faces")
        box.setWindowModality(Qt.WindowModality.WindowModal)

        def answered(_result: int) -> None:
            self.confirm = None
            if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
                self.ctx.tasks.run(self.ctx.hub.reembed.purge_dormant, write=True, done=self._purged,
                                   context=self)

        box.finished.connect(answered)
        self.confirm = box
        box.open()

    def _purged(self, count: int) -> None:
        self._say(f"Deleted {faces(count)} made with another face finder.", True)
        self.refresh()
