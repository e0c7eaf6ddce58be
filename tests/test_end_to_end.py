"""The whole story against the real server on 127.0.0.1, with real photos.

Photos of several people arrive as unknown faces; the timeline groups them by
person; naming a cluster creates a contact; unseen photos of those people are
recognized; photos of people never named are not.
"""

from __future__ import annotations

from collections import Counter

import pytest

pytestmark = [pytest.mark.faces, pytest.mark.model, pytest.mark.slow]

KNOWN = ["colin_powell", "george_w_bush", "hugo_chavez", "serena_williams"]
STRANGERS = ["ariel_sharon", "bill_gates", "halle_berry"]


def test_people_met_become_contacts_and_are_recognized(api, identities):
    for person in KNOWN + STRANGERS:
        assert person in identities and len(identities[person]) >= 6, person
    assert api.register("wearer").status_code == 200

    # 1. The wearer meets four people, three photos each: all unknown.
    uploaded: list[str] = []
    for person in KNOWN:
        for photo in identities[person][:3]:
            response = api.upload(photo)
            assert response.status_code == 200, response.text
            faces = response.json()["faces"]
            assert [f["status"] for f in faces] == ["unknown"], (photo, faces)
            uploaded.append(person)

    # 2. The timeline groups them by person: uploads were sequential, so the
    #    sorted timestamps line up with the upload order.
    timeline = api.timeline()
    owner = {stamp: person for stamp, person in
             zip(sorted(s for stamps in timeline.values() for s in stamps), uploaded)}
    assert len(owner) == len(uploaded)
    best_cluster: dict[str, tuple[int, str]] = {}
    for cluster_id, stamps in timeline.items():
        people = Counter(owner[s] for s in stamps)
        assert len(people) == 1, f"cluster {cluster_id} mixes {dict(people)}"
        person, count = people.most_common(1)[0]
        best_cluster[person] = max(best_cluster.get(person, (0, "")), (count, cluster_id))
    assert set(best_cluster) == set(KNOWN)
    assert all(count >= 2 for count, _ in best_cluster.values()), best_cluster

    # 3. Naming each person's cluster creates a contact with a distinct pattern.
    for person, (_, cluster_id) in best_cluster.items():
        response = api.create_contact(cluster_id, person.replace("_", " ").title())
        assert response.status_code == 200, response.text
        assert response.json()["message"] == "Contact created successfully"
    contacts = {c["name"]: c for c in api.contacts()}
    assert len(contacts) == len(KNOWN)
    assert len({c["vib_pattern"] for c in contacts.values()}) == len(KNOWN)
    assert all(c["vib_pattern"] != 0 and c["last_seen"] is None for c in contacts.values())
    named = set(api.timeline())
    assert not named & {cluster_id for _, cluster_id in best_cluster.values()}

    # 4. Unseen photos of them are recognized, by name.
    for person in KNOWN:
        for photo in identities[person][4:6]:
            faces = api.upload(photo).json()["faces"]
            assert len(faces) == 1
            assert faces[0]["status"] == "matched", (photo, faces)
            assert faces[0]["contact"]["name"] == person.replace("_", " ").title()
            assert 0 <= faces[0]["distance"] < 0.6
    assert all(c["last_seen"] for c in api.contacts())

    # 5. People never named are never taken for a contact.
    for person in STRANGERS:
        for photo in identities[person][:2]:
            faces = api.upload(photo).json()["faces"]
            assert [f["status"] for f in faces] == ["unknown"], (photo, faces)

    # 6. Deleting a contact removes every face of it.
    cid = contacts["Colin Powell"]["cid"]
    assert api.delete_contact(cid).status_code == 200
    assert "Colin Powell" not in {c["name"] for c in api.contacts()}
