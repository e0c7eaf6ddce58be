"""Helpers for the security and reliability suite: the real server on
127.0.0.1 (in-process or as a child process), the CLI as a child process,
and a request "from the LAN" through the Quart test client's ASGI scope."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import httpx

from bench.hubprocess import REPO, HubProcess, child_env, wait_healthy  # noqa: F401 - the tests use them from here
from facelink_local.api import create_app
from facelink_local.hub import Hub
from facelink_local.server import BackgroundServer

ServerProcess = HubProcess  # `facelink serve` as a child process (can be SIGKILLed)
PASSWORD = "correct horse battery"
# A phone on the home network, as the ASGI server would report it.
LAN = {"client": ("192.168.1.23", 51515)}
# One client for the whole run: each new httpx client spends ~70 ms loading CA certificates.
http = httpx.Client(timeout=60)


class LiveServer:
    """The real app on Hypercorn on 127.0.0.1 (a thread of this process)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.server = BackgroundServer(create_app(hub), "127.0.0.1", 0).start()
        self.base = f"http://127.0.0.1:{self.server.port}"
        wait_healthy(self.base)

    def stop(self) -> None:
        self.server.stop()


def facelink_cli(*args: str, input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `facelink ...` (python -m facelink_local) as a separate process."""
    return subprocess.run([sys.executable, "-m", "facelink_local", *args], cwd=REPO, env=child_env(),
                          input=input, capture_output=True, text=True, timeout=timeout)


def register(base: str, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = http.post(f"{base}/api/v1/register", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


# Each query counts rows that break one rule of the schema that SQLite itself cannot enforce.
CONSISTENCY_RULES = {
    "a contact without reference faces":
        "SELECT count(*) FROM contacts c WHERE NOT EXISTS (SELECT 1 FROM faces f WHERE f.contact_id = c.cid)",
    "a contact's face that still names a cluster":
        "SELECT count(*) FROM faces WHERE contact_id IS NOT NULL AND cluster_id IS NOT NULL",
    "a face of one user in another user's contact":
        "SELECT count(*) FROM faces f JOIN contacts c ON c.cid = f.contact_id WHERE c.user_id != f.user_id",
    "a face of one user in another user's cluster":
        "SELECT count(*) FROM faces f JOIN clusters c ON c.id = f.cluster_id WHERE c.user_id != f.user_id",
    "a cluster member of another user":
        "SELECT count(*) FROM cluster_members m JOIN clusters c ON c.id = m.cluster_id "
        "JOIN faces f ON f.id = m.face_id WHERE c.user_id != f.user_id",
    "a face of one user from another user's upload":
        "SELECT count(*) FROM faces f JOIN uploads u ON u.id = f.upload_id WHERE u.user_id != f.user_id",
}
# A half-made contact: some of a cluster's faces moved to a contact, others still loose. Valid
# only while nobody reclusters (a recluster leaves faces members of an old and a new cluster).
WHOLE_CLUSTERS = (
    "SELECT count(*) FROM (SELECT m.cluster_id FROM cluster_members m JOIN faces f ON f.id = m.face_id "
    "GROUP BY m.cluster_id HAVING count(DISTINCT coalesce(f.contact_id, 0)) > 1)"
)


def consistency_problems(db, whole_clusters: bool = False) -> list[str]:
    """What is wrong with a hub database (a sqlite3 or sqlite-utils connection): [] when nothing.
    `whole_clusters`: also check that no cluster is split between a contact and the timeline."""
    problems = []
    integrity = [row[0] for row in db.execute("PRAGMA integrity_check").fetchall()]
    if integrity != ["ok"]:
        problems.append(f"integrity_check: {integrity[:5]}")
    broken_keys = db.execute("PRAGMA foreign_key_check").fetchall()
    if broken_keys:
        problems.append(f"foreign_key_check: {broken_keys[:5]}")
    rules = {**CONSISTENCY_RULES, **({"a cluster split between a contact and the timeline": WHOLE_CLUSTERS}
                                      if whole_clusters else {})}
    for rule, query in rules.items():
        count = db.execute(query).fetchone()[0]
        if count:
            problems.append(f"{count} x {rule}")
    return problems
