"""Settings read from the environment exactly as pydantic-settings did, without it.

``openskies.settings`` reads ``OPENSKIES_*`` variables itself (importing
pydantic-settings cost every server start about 30 ms); these are the rules
the CLI, the benchmark and deployments rely on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from openskies.settings import Settings


def test_environment_values_are_validated_like_keyword_arguments(monkeypatch):
    monkeypatch.setenv("OPENSKIES_WORKERS", "3")
    monkeypatch.setenv("OPENSKIES_QUERY_TIMEOUT", "2.5")
    monkeypatch.setenv("OPENSKIES_REPLACE_DATA", "true")
    monkeypatch.setenv("OPENSKIES_STORE", "disk")
    monkeypatch.setenv("openskies_port", "9001")  # names match in any case
    settings = Settings()
    assert (settings.workers, settings.query_timeout, settings.port) == (3, 2.5, 9001)
    assert settings.replace_data is True and settings.store == "disk"


def test_tuple_settings_are_json_in_the_environment(monkeypatch):
    monkeypatch.setenv("OPENSKIES_DATA_FILES", '["/data/a.nq", "b.ttl"]')
    monkeypatch.setenv("OPENSKIES_CORS_ORIGINS", "[]")
    settings = Settings()
    assert settings.data_files == (Path("/data/a.nq"), Path("b.ttl"))
    assert settings.cors_origins == ()
    monkeypatch.setenv("OPENSKIES_DATA_FILES", "a.nq")
    with pytest.raises(ValueError, match="OPENSKIES_DATA_FILES must be JSON"):
        Settings()


def test_keyword_arguments_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("OPENSKIES_WORKERS", "3")
    monkeypatch.setenv("OPENSKIES_BASE_URL", "")
    settings = Settings(workers=5)
    assert settings.workers == 5
    assert settings.base_url == ""  # an empty variable is a value, as before


def test_invalid_and_unknown_settings_are_refused(monkeypatch):
    monkeypatch.setenv("OPENSKIES_WORKERS", "0")
    with pytest.raises(ValueError, match="workers"):
        Settings()
    monkeypatch.delenv("OPENSKIES_WORKERS")
    with pytest.raises(ValueError, match="no_such_setting"):
        Settings(no_such_setting=1)
    monkeypatch.setenv("OPENSKIES_NO_SUCH_SETTING", "1")  # unknown variables are ignored
    assert Settings().workers == 2


def test_settings_handed_over_as_json_ignore_the_environment(monkeypatch):
    sent = Settings(workers=4, data_files=(Path("x.nq"),))
    monkeypatch.setenv("OPENSKIES_WORKERS", "7")
    received = Settings.model_validate_json(sent.model_dump_json())
    assert received == sent and received.workers == 4
    with pytest.raises(ValueError):
        received.workers = 1  # frozen
