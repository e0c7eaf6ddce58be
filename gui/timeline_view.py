"""Timeline: the unknown people the wearable met, one card each.

A card shows the person's best few faces, how many times and when they were
seen, and a field to name them: "Name this person" makes the group a contact
in one step. The view reloads by itself shortly after new faces arrive.
"""

from __future__ import annotations

from .humanize import ago, times, when
from .qt import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    Qt,
    QScrollArea,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .widgets import SightingsStrip, Thumbnail, card, heading, line_height, muted, named, primary, set_role

REFRESH_DELAY_MS = 800  # uploads come in bursts: reload once they settle
THUMBNAILS = 4
MAX_CARDS = 60


def load_timeline(hub, user_id: int) -> list[dict]:
    """Worker thread: the clusters with their best faces, most recently seen first."""
    clusters = hub.timeline.pull(user_id)
    ordered = sorted(clusters.items(), key=lambda item: item[1][-1], reverse=True)[:MAX_CARDS]
    return [{"cluster_id": cid, "stamps": stamps,
             "faces": hub.timeline.cluster_faces(user_id, cid, limit=THUMBNAILS)}
            for cid, stamps in ordered]


class ClusterCard(QFrame):
    name_requested = Signal(str, str)  # (cluster_id, name)

    def __init__(self, cluster: dict, retention_days: float, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.cluster_id = cluster["cluster_id"]
        stamps = cluster["stamps"]
        lh = line_height(self)

        # The best face large, the next ones small beside it; the same width on every card.
        faces = QHBoxLayout()
        faces.setSpacing(round(lh * 0.3))
        small = QVBoxLayout()
        small.setSpacing(round(lh * 0.2))
        for i, face in enumerate(cluster["faces"]):
            thumbnail = Thumbnail(face["thumbnail"], 5.2 if i == 0 else 1.6,
                                  f"face {i + 1}, seen {when(face['seen_at'])}")
            if i == 0:
                faces.addWidget(thumbnail, 0, Qt.AlignmentFlag.AlignTop)
            else:
                small.addWidget(thumbnail)
        small.addStretch(1)
        faces.addLayout(small)
        self.faces = QWidget()
        self.faces.setLayout(faces)
        faces.setContentsMargins(0, 0, 0, 0)
        self.faces.setFixedWidth(round(lh * 5.2) + round(lh * 0.3) + round(lh * 1.6))

        self.title = heading(f"Seen {times(len(stamps))}", 3)
        self.seen = muted(f"First seen {when(stamps[0])}  ·  last seen {ago(stamps[-1])}")
        self.strip = SightingsStrip(stamps, retention_days)

        self.name_edit = named(QLineEdit(), "Name for this person",
                               "Type a name, then press Enter to make this person a contact")
        self.name_edit.setPlaceholderText("Who is this?")
        self.name_edit.setMaxLength(64)
        name_label = QLabel("&Name:")
        name_label.setBuddy(self.name_edit)
        self.name_button = primary(named(QPushButton("Name this person"), "Name this person",
                                         "Turns this group of faces into a contact"))
        self.name_button.setEnabled(False)
        self.error = muted()
        self.error.setAccessibleName("Naming problem")
        self.error.hide()

        name_row = QHBoxLayout()
        name_row.addWidget(name_label)
        name_row.addWidget(self.name_edit, 1)
        name_row.addWidget(self.name_button)

        info = QVBoxLayout()
        info.setSpacing(round(lh * 0.3))
        info.addWidget(self.title)
        info.addWidget(self.seen)
        info.addWidget(self.strip)
        info.addSpacing(round(lh * 0.3))
        info.addLayout(name_row)
        info.addWidget(self.error)

        layout = QHBoxLayout(self)
        margin = round(lh * 0.9)
        layout.setContentsMargins(margin, margin, margin, margin)
        layout.setSpacing(round(lh * 1.2))
        layout.addWidget(self.faces, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(info, 1)

        self.setAccessibleName(f"Unknown person, seen {times(len(stamps))}, last seen {ago(stamps[-1])}")
        self.name_edit.textChanged.connect(lambda text: self.name_button.setEnabled(bool(text.strip())))
        self.name_edit.returnPressed.connect(self._request)
        self.name_button.clicked.connect(self._request)

    def _request(self) -> None:
        name = self.name_edit.text().strip()
        if name:
            self.set_busy(True)
            self.name_requested.emit(self.cluster_id, name)

    def set_busy(self, busy: bool) -> None:
        self.name_edit.setEnabled(not busy)
        self.name_button.setEnabled(not busy and bool(self.name_edit.text().strip()))
        self.name_button.setText("Saving…" if busy else "Name this person")

    def show_error(self, text: str) -> None:
        self.set_busy(False)
        self.error.setText(text)
        set_role(self.error, "bad")
        self.error.show()


class TimelineView(QWidget):
    """`refreshed` fires each time the cards have been rebuilt."""

    refreshed = Signal()

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.cards: dict[str, ClusterCard] = {}
        self._loading = False
        self._again = False

        title = heading("People you met", 1)
        intro = muted("Faces your wearable saw but does not know yet, grouped by person. "
                      "Give someone a name and they become a contact: from then on, your wearable "
                      "buzzes when it sees them.")
        self.refresh_button = named(QPushButton("&Refresh"), "Refresh the timeline", "Also F5")
        top = QHBoxLayout()
        top.addWidget(title, 1)
        top.addWidget(self.refresh_button)

        self.empty = muted("Nobody new yet. When your wearable meets someone it does not know, they appear "
                           "here within seconds.")
        self.empty.setAccessibleName("The timeline is empty")
        self.empty.hide()

        self.list_layout = QVBoxLayout()
        self.list_layout.setSpacing(round(line_height(self) * 0.8))
        body = QWidget()
        body.setObjectName("scrollBody")
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, round(line_height(self) * 0.5), 0)
        column.addWidget(self.empty)
        column.addLayout(self.list_layout)
        column.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(body)
        self.scroll.setAccessibleName("Unknown people")

        layout = QVBoxLayout(self)
        margin = round(line_height(self) * 1.2)
        layout.setContentsMargins(margin, margin, margin, margin // 2)
        layout.addLayout(top)
        layout.addWidget(intro)
        layout.addSpacing(margin // 2)
        layout.addWidget(self.scroll, 1)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(REFRESH_DELAY_MS)
        self._debounce.timeout.connect(self.refresh)
        self._clock = QTimer(self)
        self._clock.setInterval(60_000)  # "last seen 5 minutes ago" keeps moving; expired faces go
        self._clock.timeout.connect(lambda: self.refresh() if self.isVisible() else None)
        self._clock.start()
        self.refresh_button.clicked.connect(self.refresh)
        ctx.bridge.faces_arrived.connect(self._on_faces_arrived)
        ctx.user_changed.connect(self.refresh)

    # --- loading -------------------------------------------------------------------

    def _on_faces_arrived(self, event) -> None:
        if event.user_id == self.ctx.user_id and event.unknown_stored:
            self._debounce.start()  # restarts: one reload per burst

    def refresh(self) -> None:
        if self.ctx.user_id is None:
            return
        if self._loading:
            self._again = True
            return
        self._loading = True
        self.ctx.tasks.run(load_timeline, self.ctx.hub, self.ctx.user_id, done=self._show,
                           failed=self._failed, context=self)

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        self.ctx.message.emit(f"Could not load the timeline: {exc}")

    def _show(self, clusters: list[dict]) -> None:
        self._loading = False
        focused = self.focusWidget()
        keep = {cid: (c.name_edit.text(), c.name_edit is focused) for cid, c in self.cards.items()}
        for existing in self.cards.values():
            existing.setParent(None)
            existing.deleteLater()
        self.cards = {}
        retention = self.ctx.hub.tuning.current.retention_days
        for cluster in clusters:
            new = ClusterCard(cluster, retention)
            new.name_requested.connect(self._name)
            text, had_focus = keep.get(cluster["cluster_id"], ("", False))
            if text:
                new.name_edit.setText(text)
            self.list_layout.addWidget(new)
            if had_focus:
                new.name_edit.setFocus()
            self.cards[cluster["cluster_id"]] = new
        self.empty.setVisible(not clusters)
        self.refreshed.emit()
        if self._again:
            self._again = False
            self.refresh()

    # --- naming --------------------------------------------------------------------------

    def _name(self, cluster_id: str, name: str) -> None:
        def created(result: dict) -> None:
            self.ctx.message.emit(f"{result['contact_name']} is now a contact. Choose how they feel "
                                  "on your wrist under Contacts.")
            self.ctx.contacts_changed.emit()
            self.refresh()

        def refused(exc: BaseException) -> None:
            text = getattr(exc, "message", str(exc))
            if type(exc).__name__ == "NotFound":
                text = "These faces are gone (they were named or expired meanwhile)."
                self.refresh()
            the_card = self.cards.get(cluster_id)
            if the_card is not None:
                the_card.show_error(text)

        self.ctx.tasks.run(self.ctx.hub.contacts.create_from_cluster, self.ctx.user_id, cluster_id, name,
                           write=True, done=created, failed=refused, context=self)

