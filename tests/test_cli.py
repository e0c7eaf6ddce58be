"""The `facelink` command line, run as a user would."""

from __future__ import annotations

import stat

import pytest
from click.testing import CliRunner

from facelink_local.cli import main
from facelink_local.config import Settings
from facelink_local.hub import Hub
from facelink_local.services.errors import Unauthorized


def test_rotate_secret_makes_old_tokens_invalid(tmp_path, engine):
    hub = Hub(Settings(data_dir=tmp_path, bcrypt_rounds=4), engine=engine)
    tokens = hub.accounts.register("ann", "correct horse battery")
    assert hub.accounts.authenticate(tokens["access_token"])
    result = CliRunner().invoke(main, ["rotate-secret", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    with pytest.raises(Unauthorized):
        hub.accounts.authenticate(tokens["access_token"])  # the same, still running hub
    assert stat.S_IMODE(hub.settings.secret_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    hub.close()


def test_recluster_names_unknown_users(tmp_path, engine):
    Hub(Settings(data_dir=tmp_path, bcrypt_rounds=4), engine=engine).close()
    result = CliRunner().invoke(main, ["recluster", "--username", "nobody", "--data-dir", str(tmp_path)])
    assert result.exit_code != 0 and "no user named" in result.output


def test_serve_help_names_the_environment_variables():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for variable in ("FACELINK_HOST", "FACELINK_PORT", "FACELINK_DATA_DIR"):
        assert variable in result.output


def test_export_refuses_an_archive_kind_it_does_not_write(tmp_path):
    result = CliRunner().invoke(main, ["export", "--username", "ann", "--output", str(tmp_path / "ann.tar"),
                                       "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "only zip archives are written: name it ann.zip, or give a folder" in result.output
    assert not (tmp_path / "ann.tar").exists()
