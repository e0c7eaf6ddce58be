"""Timeline: unknown people arrive as cards by themselves, and "Name this
person" turns a card into a contact (checked through the HTTP API)."""

from __future__ import annotations

import pytest
from desktop_fixtures import GUI_MARKS, account, desktop, focus, http, photos_of, themed, wait_idle  # noqa: F401

from gui.qt import Qt

pytestmark = [*GUI_MARKS, pytest.mark.faces, pytest.mark.model]

PEOPLE = ("serena_williams", "kofi_annan")


def upload_and_wait_for_cards(qtbot, desktop, http, photos, cards: int):
    timeline = desktop.window.timeline
    for photo in photos:
        assert http.upload(photo).status_code == 200
    # No button pressed: the view reloads by itself once the faces have arrived.
    qtbot.waitUntil(lambda: len(timeline.cards) == cards and not timeline._loading, timeout=20_000)
    qtbot.waitUntil(lambda: all(card.isVisible() for card in timeline.cards.values()))  # shown on the next event
    return timeline


def test_new_faces_appear_as_cards_by_themselves(desktop, http, identities, qtbot):
    timeline = upload_and_wait_for_cards(qtbot, desktop, http, photos_of(identities, *PEOPLE), cards=2)
    assert not timeline.empty.isVisible()
    for card in timeline.cards.values():
        assert card.title.text() == "Seen twice"
        assert "last seen just now" in card.seen.text()
        assert len(card.strip._moments) == 2
        assert "Seen twice" in card.strip.accessibleDescription()
    assert set(timeline.cards) == set(http.timeline())


def test_naming_a_cluster_creates_the_contact(desktop, http, identities, qtbot):
    timeline = upload_and_wait_for_cards(qtbot, desktop, http, photos_of(identities, *PEOPLE), cards=2)
    cluster_id, card = next(iter(timeline.cards.items()))
    assert not card.name_button.isEnabled()  # nothing typed yet
    qtbot.keyClicks(card.name_edit, "  Zo")
    card.name_edit.insert("ë  ")  # QTest types ASCII only
    with qtbot.waitSignal(desktop.contacts_changed, timeout=20_000):
        qtbot.mouseClick(card.name_button, Qt.MouseButton.LeftButton)

    contacts = http.contacts()
    assert [c["name"] for c in contacts] == ["Zoë"]
    assert cluster_id not in http.timeline()
    qtbot.waitUntil(lambda: cluster_id not in timeline.cards and len(timeline.cards) == 1, timeout=20_000)
    # The contacts view shows the new contact, with the hub's chosen pattern.
    contacts_view = desktop.window.contacts
    qtbot.waitUntil(lambda: contacts_view.model.rowCount() == 1, timeout=20_000)
    assert contacts_view.model.item(0).text() == "Zoë"
    assert contacts_view.editor.pattern() == contacts[0]["vib_pattern"]


def test_the_keyboard_alone_names_a_person(desktop, http, identities, qtbot):
    """Tab to the name field of a card, type, press Enter."""
    timeline = upload_and_wait_for_cards(qtbot, desktop, http, photos_of(identities, PEOPLE[0]), cards=1)
    card = next(iter(timeline.cards.values()))
    focus(qtbot, timeline.refresh_button)
    for _ in range(10):
        if card.name_edit.hasFocus():
            break
        qtbot.keyClick(desktop.window.focusWidget(), Qt.Key.Key_Tab)
    assert card.name_edit.hasFocus()
    qtbot.keyClicks(card.name_edit, "Serena")
    with qtbot.waitSignal(desktop.contacts_changed, timeout=20_000):
        qtbot.keyClick(card.name_edit, Qt.Key.Key_Return)
    assert [c["name"] for c in http.contacts()] == ["Serena"]


def test_a_bad_name_is_explained_on_the_card(desktop, http, identities, qtbot):
    timeline = upload_and_wait_for_cards(qtbot, desktop, http, photos_of(identities, PEOPLE[0]), cards=1)
    card = next(iter(timeline.cards.values()))
    card.name_edit.setMaxLength(200)
    qtbot.keyClicks(card.name_edit, "x" * 80)
    card.name_button.click()
    qtbot.waitUntil(card.error.isVisible, timeout=20_000)
    assert "1-64 characters" in card.error.text()
    assert http.contacts() == []
    assert card.name_edit.isEnabled()  # the user can fix it and try again
