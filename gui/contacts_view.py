"""Contacts: the list (thumbnail, name, "last seen 5 minutes ago", pattern),
search, and for the selected contact: rename, the pattern editor, delete."""

from __future__ import annotations

from datetime import timezone

from facelink_local.timefmt import iso

from . import theme
from .humanize import ago, describe_pattern
from .pattern_editor import PatternEditor, paint_pattern
from .qt import (
    QAbstractItemView,
    QColor,
    QFont,
    QFrame,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QModelIndex,
    QPainter,
    QPen,
    QPushButton,
    QRectF,
    QScrollArea,
    QShortcut,
    QSize,
    QSortFilterProxyModel,
    QStandardItem,
    QStandardItemModel,
    QStyle,
    QStyledItemDelegate,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .widgets import Thumbnail, heading, line_height, muted, named, pixmap_from_jpeg, placeholder_pixmap, rounded

CID = Qt.ItemDataRole.UserRole + 1
LAST_SEEN = Qt.ItemDataRole.UserRole + 2
PATTERN = Qt.ItemDataRole.UserRole + 3
THUMBNAIL = Qt.ItemDataRole.UserRole + 4  # JPEG bytes
SAVE_DELAY_MS = 300  # a drag across slots is saved once


def load_contacts(hub, user_id: int) -> list[dict]:
    """Worker thread: the contacts with their thumbnails, by name."""
    contacts = hub.contacts.list(user_id)
    for contact in contacts:
        contact["thumbnail"] = hub.contacts.thumbnail(user_id, contact["cid"])
    return sorted(contacts, key=lambda c: c["name"].casefold())


def last_seen_text(stamp: str | None) -> str:
    return f"last seen {ago(stamp)}" if stamp else "not seen since they were named"


class ContactDelegate(QStyledItemDelegate):
    """Paints a contact row; every size follows the font."""

    def _metrics(self, option) -> tuple[int, int]:
        lh = option.fontMetrics.height()
        return lh, round(lh * 3)

    def sizeHint(self, option, index) -> QSize:  # noqa: N802 - Qt override
        lh, thumb = self._metrics(option)
        return QSize(lh * 8, thumb + round(lh * 0.9))  # narrower lists elide, never scroll sideways

    def paint(self, painter: QPainter, option, index: QModelIndex) -> None:
        s = theme.scheme()
        lh, thumb = self._metrics(option)
        rect = QRectF(option.rect)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(s.selection))
            painter.drawRoundedRect(rect.adjusted(2, 2, -2, -2), lh * 0.4, lh * 0.4)
            painter.setBrush(QColor(s.accent))
            painter.drawRoundedRect(QRectF(rect.left() + 2, rect.top() + 6, lh * 0.28, rect.height() - 12), 2, 2)
        if option.state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(QPen(QColor(s.focus), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(2, 2, -2, -2), lh * 0.4, lh * 0.4)

        pad = lh * 0.45
        data = index.data(THUMBNAIL)
        source = pixmap_from_jpeg(data) or placeholder_pixmap(thumb)
        top = rect.top() + (rect.height() - thumb) / 2
        painter.drawPixmap(round(rect.left() + pad + lh * 0.3), round(top), rounded(source, thumb))

        left = rect.left() + pad + lh * 0.3 + thumb + lh * 0.7
        width = rect.right() - left - pad
        name_font = QFont(option.font)
        name_font.setBold(True)
        if name_font.pointSizeF() > 0:
            name_font.setPointSizeF(name_font.pointSizeF() * 1.1)
        painter.setFont(name_font)
        painter.setPen(QColor(s.text))
        name_height = painter.fontMetrics().height()
        name = painter.fontMetrics().elidedText(index.data(Qt.ItemDataRole.DisplayRole), Qt.TextElideMode.ElideRight,
                                                round(width))
        text_top = top + (thumb - name_height - lh * 1.15 - lh * 0.75) / 2
        painter.drawText(QRectF(left, text_top, width, name_height), Qt.AlignmentFlag.AlignLeft, name)
        painter.setFont(option.font)
        painter.setPen(QColor(s.muted))
        seen = last_seen_text(index.data(LAST_SEEN))
        painter.drawText(QRectF(left, text_top + name_height, width, lh * 1.2), Qt.AlignmentFlag.AlignLeft,
                         painter.fontMetrics().elidedText(seen, Qt.TextElideMode.ElideRight, round(width)))
        strip_width = min(width, lh * 12)
        paint_pattern(painter, QRectF(left, text_top + name_height + lh * 1.25, strip_width, lh * 0.6),
                      int(index.data(PATTERN) or 0))
        painter.restore()


class ContactFilter(QSortFilterProxyModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterRole(Qt.ItemDataRole.DisplayRole)


class ContactsView(QWidget):
    """`refreshed` fires each time the list has been reloaded; `saved` after a
    contact's change reached the hub."""

    refreshed = Signal()
    saved = Signal(int)

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = QStandardItemModel(self)
        self.proxy = ContactFilter(self)
        self.proxy.setSourceModel(self.model)
        self.confirm: QMessageBox | None = None
        self._cid: int | None = None
        self._pending: tuple[int, int] | None = None  # (cid, pattern) waiting for the save timer
        self._unsaved: dict[int, int] = {}  # cid -> pattern asked for and not yet stored by the hub
        self._filling = False
        lh = line_height(self)

        # The list, with its search box.
        self.search = named(QLineEdit(), "Search contacts", "Type part of a name; also Ctrl+F")
        self.search.setPlaceholderText("Search by name")
        self.search.setClearButtonEnabled(True)
        search_label = QLabel("&Search:")
        search_label.setBuddy(self.search)
        self.list = QListView()
        self.list.setModel(self.proxy)
        self.list.setItemDelegate(ContactDelegate(self.list))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        named(self.list, "Contacts", "Up and down choose a contact; Delete removes it, F2 renames it")
        self.count = muted()
        self.count.setAccessibleName("Number of contacts")

        search_row = QHBoxLayout()
        search_row.addWidget(search_label)
        search_row.addWidget(self.search, 1)
        left = QVBoxLayout()
        left.addWidget(heading("Contacts", 1))
        left.addLayout(search_row)
        left.addWidget(self.list, 1)
        left.addWidget(self.count)

        # The selected contact.
        self.detail = QFrame()
        self.detail.setObjectName("card")
        self.photo = Thumbnail(None, 6.5, "the contact's face")
        self.name_title = heading("", 2)
        self.name_title.setAccessibleName("Contact name")
        self.seen = muted()
        self.seen.setAccessibleName("Last seen")
        self.name_edit = named(QLineEdit(), "New name for the contact", "Type the new name and press Enter")
        self.name_edit.setMaxLength(64)
        name_label = QLabel("&Name:")
        name_label.setBuddy(self.name_edit)
        self.rename_button = named(QPushButton("Rena&me"), "Rename the contact")
        self.editor = PatternEditor()
        self.delete_button = named(QPushButton("&Delete contact…"), "Delete the contact",
                                   "Asks first; deletes the contact and every face kept of them")
        self.no_selection = muted("Choose a contact on the left to rename them, change their vibration pattern "
                                  "or delete them.")

        title_box = QVBoxLayout()
        title_box.addWidget(self.name_title)
        title_box.addWidget(self.seen)
        title_box.addStretch(1)
        top = QHBoxLayout()
        top.setSpacing(round(lh))
        top.addWidget(self.photo)
        top.addLayout(title_box, 1)
        rename_row = QHBoxLayout()
        rename_row.addWidget(name_label)
        rename_row.addWidget(self.name_edit, 1)
        rename_row.addWidget(self.rename_button)
        bottom_row = QHBoxLayout()
        bottom_row.addStretch(1)
        bottom_row.addWidget(self.delete_button)

        self.detail_body = QWidget()
        body = QVBoxLayout(self.detail_body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(round(lh * 0.6))
        body.addLayout(top)
        body.addLayout(rename_row)
        body.addSpacing(round(lh * 0.4))
        body.addWidget(heading("How they feel on your wrist", 3))
        body.addWidget(muted("Each slot is 50 ms; a filled slot buzzes. Click or drag across slots, or choose "
                             "a preset. Changes are saved at once."))
        body.addWidget(self.editor)
        body.addStretch(1)
        body.addLayout(bottom_row)
        detail_layout = QVBoxLayout(self.detail)
        margin = round(lh * 1.1)
        detail_layout.setContentsMargins(margin, margin, margin, margin)
        detail_layout.addWidget(self.no_selection)
        detail_layout.addWidget(self.detail_body, 1)

        layout = QHBoxLayout(self)
        margin = round(lh * 1.2)
        layout.setContentsMargins(margin, margin, margin, margin // 2)
        layout.setSpacing(margin)
        layout.addLayout(left, 2)
        # Very large text may not fit: the panel scrolls rather than squeezing its controls.
        holder = QWidget()
        holder.setObjectName("scrollBody")
        holder_layout = QVBoxLayout(holder)
        holder_layout.setContentsMargins(0, 0, 0, 0)
        holder_layout.addWidget(self.detail)
        self.detail_scroll = QScrollArea()
        self.detail_scroll.setWidgetResizable(True)
        self.detail_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.detail_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.detail_scroll.setWidget(holder)
        layout.addWidget(self.detail_scroll, 3)

        self.setTabOrder(self.search, self.list)
        self.setTabOrder(self.list, self.name_edit)
        self.setTabOrder(self.name_edit, self.rename_button)
        self.setTabOrder(self.rename_button, self.editor.strip)
        self.setTabOrder(self.editor.test_button, self.delete_button)

        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self._save_pattern)
        self._clock = QTimer(self)
        self._clock.setInterval(30_000)  # "5 minutes ago" keeps moving
        self._clock.timeout.connect(self._tick)
        self._clock.start()

        self.search.textChanged.connect(self._filter)
        self.list.selectionModel().currentChanged.connect(lambda current, _previous: self._select(current))
        self.name_edit.returnPressed.connect(self.rename)
        self.rename_button.clicked.connect(self.rename)
        self.delete_button.clicked.connect(self.ask_delete)
        self.editor.pattern_edited.connect(self._pattern_edited)
        self.editor.test_requested.connect(self._test)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self.search.setFocus)
        QShortcut(QKeySequence(Qt.Key.Key_Delete), self.list, activated=self.ask_delete,
                  context=Qt.ShortcutContext.WidgetShortcut)
        QShortcut(QKeySequence(Qt.Key.Key_F2), self, activated=self._focus_rename)
        ctx.contacts_changed.connect(self.refresh)
        ctx.user_changed.connect(self.refresh)
        ctx.bridge.contact_seen.connect(self._on_contact_seen)
        ctx.bridge.device_state.connect(lambda _event: self._show_wearable())
        ctx.haptics_changed.connect(self._show_wearable)
        self._show_wearable()
        self._show_detail(None)

    # --- loading -----------------------------------------------------------------------

    def refresh(self) -> None:
        if self.ctx.user_id is None:
            return
        self.ctx.tasks.run(load_contacts, self.ctx.hub, self.ctx.user_id, done=self._fill, context=self)

    def _fill(self, contacts: list[dict]) -> None:
        keep = self._cid
        self._filling = True  # clearing the model moves the selection: not the user's doing
        try:
            self.model.clear()
        finally:
            self._filling = False
        for contact in contacts:
            item = QStandardItem(contact["name"])
            item.setEditable(False)
            item.setData(contact["cid"], CID)
            item.setData(contact["last_seen"], LAST_SEEN)
            # An edit still on its way to the hub wins over what was read before it landed.
            item.setData(self._unsaved.get(contact["cid"], contact["vib_pattern"]), PATTERN)
            item.setData(contact["thumbnail"], THUMBNAIL)
            self._describe_item(item)
            self.model.appendRow(item)
        self._update_count()
        row = self._proxy_row(keep) if keep is not None else None
        if row is None and self.proxy.rowCount():
            row = 0
        if row is not None:
            self.list.setCurrentIndex(self.proxy.index(row, 0))
        else:
            self._show_detail(None)
        self.refreshed.emit()

    def _describe_item(self, item: QStandardItem) -> None:
        text = f"{item.text()}, {last_seen_text(item.data(LAST_SEEN))}, pattern {describe_pattern(item.data(PATTERN))}"
        item.setData(text, Qt.ItemDataRole.AccessibleTextRole)
        item.setToolTip(text)

    def _update_count(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        if total == 0:
            self.count.setText("No contacts yet: name someone in the Timeline.")
        elif shown == total:
            self.count.setText("1 contact" if total == 1 else f"{total} contacts")
        else:
            self.count.setText(f"{shown} of {total} contacts match")

    def _item(self, cid: int | None) -> QStandardItem | None:
        for row in range(self.model.rowCount()):
            item = self.model.item(row)
            if item.data(CID) == cid:
                return item
        return None

    def _proxy_row(self, cid: int) -> int | None:
        item = self._item(cid)
        if item is None:
            return None
        index = self.proxy.mapFromSource(item.index())
        return index.row() if index.isValid() else None

    def select_cid(self, cid: int) -> None:
        row = self._proxy_row(cid)
        if row is not None:
            self.list.setCurrentIndex(self.proxy.index(row, 0))

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._update_count()
        if self._cid is not None and self._proxy_row(self._cid) is None:
            self.list.setCurrentIndex(self.proxy.index(0, 0) if self.proxy.rowCount() else QModelIndex())
            if not self.proxy.rowCount():
                self._show_detail(None)

    # --- the selected contact ---------------------------------------------------------

    def _select(self, index: QModelIndex) -> None:
        if self._filling:
            return
        self._flush_pattern()
        if not index.isValid():
            self._show_detail(None)
            return
        self._show_detail(self.model.itemFromIndex(self.proxy.mapToSource(index)))

    def _show_detail(self, item: QStandardItem | None) -> None:
        self._cid = item.data(CID) if item is not None else None
        self.detail_body.setVisible(item is not None)
        self.no_selection.setVisible(item is None)
        if item is None:
            return
        self.photo.set_data(item.data(THUMBNAIL))
        self.photo.setAccessibleName(f"face of {item.text()}")
        self.name_title.setText(item.text())
        self.seen.setText(last_seen_text(item.data(LAST_SEEN)).capitalize())
        self.name_edit.setText(item.text())
        self.editor.set_pattern(int(item.data(PATTERN) or 0))
        self.delete_button.setText(f"&Delete {item.text()}…")

    def _tick(self) -> None:
        self.list.viewport().update()
        item = self._item(self._cid)
        if item is not None:
            self.seen.setText(last_seen_text(item.data(LAST_SEEN)).capitalize())

    def _on_contact_seen(self, event) -> None:
        if event.user_id != self.ctx.user_id:
            return
        item = self._item(event.cid)
        if item is None:
            self.refresh()
            return
        item.setData(iso(event.at.astimezone(timezone.utc)), LAST_SEEN)
        self._describe_item(item)
        if event.cid == self._cid:
            self.seen.setText(last_seen_text(item.data(LAST_SEEN)).capitalize())

    def _focus_rename(self) -> None:
        if self._cid is not None:
            self.name_edit.setFocus()
            self.name_edit.selectAll()

    # --- edits -------------------------------------------------------------------------

    def rename(self) -> None:
        cid, name = self._cid, self.name_edit.text().strip()
        item = self._item(cid)
        if item is None or not name or name == item.text():
            return

        def renamed(_result) -> None:
            self.ctx.message.emit(f"Renamed to {name}.")
            self.saved.emit(cid)
            self.refresh()

        self.ctx.tasks.run(self.ctx.hub.contacts.edit, self.ctx.user_id, cid, name=name, write=True,
                           done=renamed, failed=self._refused, context=self)

    def _pattern_edited(self, pattern: int) -> None:
        item = self._item(self._cid)
        if item is None:
            return
        item.setData(pattern, PATTERN)
        self._describe_item(item)
        self._pending = (self._cid, pattern)
        self._unsaved[self._cid] = pattern
        self._save_timer.start()

    def _flush_pattern(self) -> None:
        if self._save_timer.isActive():
            self._save_timer.stop()
            self._save_pattern()

    def _save_pattern(self) -> None:
        if self._pending is None:
            return
        cid, pattern = self._pending
        self._pending = None

        def stored(_result) -> None:
            if self._unsaved.get(cid) == pattern:
                del self._unsaved[cid]
            self.ctx.message.emit("Pattern saved.")
            self.saved.emit(cid)

        def refused(exc: BaseException) -> None:
            self._unsaved.pop(cid, None)
            self._refused(exc)

        self.ctx.tasks.run(self.ctx.hub.contacts.edit, self.ctx.user_id, cid, vib_pattern=pattern, write=True,
                           done=stored, failed=refused, context=self)

    def _refused(self, exc: BaseException) -> None:
        self.ctx.message.emit(f"Not saved: {getattr(exc, 'message', exc)}")
        self.refresh()

    def ask_delete(self) -> None:
        item = self._item(self._cid)
        if item is None:
            return
        cid, name = self._cid, item.text()
        box = QMessageBox(QMessageBox.Icon.Warning, f"Delete {name}?",
                          f"Delete {name}?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setInformativeText(f"{name} and every face kept of them will be deleted from this computer. "
                               "Your wearable will no longer recognize them. This cannot be undone.")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText(f"&Delete {name}")
        box.setAccessibleName(f"Confirm deleting {name}")
        box.setWindowModality(Qt.WindowModality.WindowModal)

        def answered(result: int) -> None:
            self.confirm = None
            if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
                self._delete(cid, name)

        box.finished.connect(answered)
        self.confirm = box
        box.open()

    def _delete(self, cid: int, name: str) -> None:
        def deleted(_result) -> None:
            self.ctx.message.emit(f"{name} was deleted.")
            if self._cid == cid:
                self._cid = None
            self.saved.emit(cid)
            self.refresh()

        self.ctx.tasks.run(self.ctx.hub.contacts.delete, self.ctx.user_id, cid, write=True, done=deleted,
                           failed=self._refused, context=self)

    # --- the wearable --------------------------------------------------------------------

    def _show_wearable(self) -> None:
        text, connected = self.ctx.wearable_summary()
        self.editor.show_wearable_state(text, connected)

    def _test(self, pattern: int) -> None:
        self.editor.show_test_result("Sending to the wearable…", True)
        self.ctx.test_on_wearable(pattern, self.editor.show_test_result)

