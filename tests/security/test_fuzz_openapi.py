"""Fuzzing every operation of /openapi.json against the real server on 127.0.0.1.

Schemathesis generates valid and invalid requests from the document the
server serves (the same pydantic models validate the requests), sends them
with a valid token, and runs every check it has: no 5xx, every status code,
body, content type and header as documented (response schema conformance),
invalid data refused, valid data accepted, auth enforced, unsupported
methods answered 405. Allowances: tests/security/schemathesis.toml.

The schemathesis CLI runs as a child process (its pytest plugin's lazy loader
does not work with pytest 9); its JSON report gives the counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .support import bearer, child_env, consistency_problems, http, register

MAX_EXAMPLES = int(os.environ.get("FACELINK_FUZZ_EXAMPLES", "25"))
SEED = os.environ.get("FACELINK_FUZZ_SEED", "1")
CONFIG = Path(__file__).with_name("schemathesis.toml")


def run_schemathesis(base: str, access: str, refresh: str, report: Path, max_examples: int = MAX_EXAMPLES,
                     seed: str = SEED, timeout: float = 240) -> tuple[subprocess.CompletedProcess, dict]:
    env = {**child_env(), "FACELINK_FUZZ_REFRESH_TOKEN": refresh}
    command = [
        sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()",
        "--config-file", str(CONFIG), "--no-color",
        "run", f"{base}/openapi.json",
        "--header", f"Authorization: Bearer {access}",
        "--checks", "all",
        "--max-examples", str(max_examples),
        "--seed", seed,
        "--workers", "1",
        "--request-timeout", "60",
        "--generation-database", "none",
        "--report", "json", "--report-json-path", str(report),
    ]
    result = subprocess.run(command, cwd=report.parent, env=env, capture_output=True, text=True, timeout=timeout)
    return result, json.loads(report.read_text()) if report.exists() else {}


@pytest.mark.faces
@pytest.mark.slow
def test_fuzzing_the_openapi_document_finds_nothing(make_hub, serve, identities, tmp_path):
    hub = make_hub(login_address_failures=100_000, login_free_failures=100_000)  # let login be explored
    base = serve(hub).base
    tokens = register(base, "fuzzer")
    auth = bearer(tokens["access_token"])
    # Real rows for fuzzed ids to hit: a contact and a remaining timeline cluster.
    for photo in identities["colin_powell"][:2] + identities["halle_berry"][:2]:
        response = http.post(f"{base}/api/v1/upload_image", content=photo.read_bytes(),
                             headers={**auth, "Content-Type": "image/jpeg"})
        assert response.status_code == 200
    clusters = sorted(http.get(f"{base}/api/v1/pull_timeline", headers=auth).json())
    assert len(clusters) == 2
    assert http.post(f"{base}/api/v1/create_contact", headers=auth,
                     json={"cluster_id": clusters[0], "contact_name": "Seed Contact"}).status_code == 200

    result, report = run_schemathesis(base, tokens["access_token"], tokens["refresh_token"],
                                      tmp_path / "schemathesis.json")

    print(result.stdout[-3000:])
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert report["complete"] and report["failures"] == [] and report["errors"] == []
    assert report["operations"]["tested"] == report["operations"]["total"] == 10
    assert report["test_cases"]["generated"] >= 10 * MAX_EXAMPLES
    for phase in ("coverage", "fuzzing", "stateful"):
        assert report["phases"][phase]["status"] == "success", phase
    # The server survived it, and what it stored is consistent.
    assert http.get(f"{base}/health").status_code == 200
    assert http.get(f"{base}/api/v1/pull_contacts", headers=auth).status_code == 200
    assert consistency_problems(hub.store.read(), whole_clusters=True) == []
