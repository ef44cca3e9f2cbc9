import json
import os
import stat
from pathlib import Path

import pytest

from studio.errors import StudioError
from studio.models import BUILTIN_MODELS, COMPLETE_MARKER, resolve_model
from studio.settings import DEFAULT_MODEL, Settings, load_settings


def test_builtin_name_resolves_to_the_converted_folder(offline_model):
    path = resolve_model(DEFAULT_MODEL)
    assert path == offline_model
    for name in ("config.json", "model.safetensors", "tokenizer.json", COMPLETE_MARKER):
        assert (path / name).is_file(), name
    info = json.loads((path / COMPLETE_MARKER).read_text())
    assert info["parameters"] == 134_515_008  # SmolLM2-135M, de-quantised


def test_conversion_runs_once_and_is_reused(offline_model):
    marker = offline_model / COMPLETE_MARKER
    before = marker.stat().st_mtime_ns
    resolve_model(DEFAULT_MODEL)
    assert marker.stat().st_mtime_ns == before


def test_local_folder_resolves_to_itself(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    assert resolve_model(str(tmp_path)) == tmp_path.resolve()


def test_folder_without_config_is_rejected(tmp_path):
    with pytest.raises(StudioError, match="no config.json"):
        resolve_model(str(tmp_path))


@pytest.mark.parametrize("ref", ["", "   "])
def test_empty_reference_is_rejected(ref):
    with pytest.raises(StudioError, match="no model given"):
        resolve_model(ref)


def test_unknown_name_lists_the_choices():
    with pytest.raises(StudioError, match="smollm2-135m-instruct"):
        resolve_model("no-such-model")


def test_hub_id_when_offline_says_so(studio_home):
    # conftest sets HF_HUB_OFFLINE=1: the real huggingface_hub refuses to download.
    with pytest.raises(StudioError, match="cannot be reached"):
        resolve_model("beomi/Yi-Ko-6B")


def _settings_with_python(home: Path, python: Path) -> Settings:
    return Settings(home=home, autotrain_python=python)


def test_missing_autotrain_environment_gives_a_clear_message(tmp_path):
    settings = _settings_with_python(tmp_path, tmp_path / "missing" / "python")
    with pytest.raises(StudioError, match="make envs"):
        resolve_model(DEFAULT_MODEL, settings)


def test_failed_conversion_reports_its_reason_and_leaves_nothing_behind(tmp_path):
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\necho 'Traceback ...' >&2\necho 'error: RuntimeError: disk full' >&2\nexit 1\n")
    fake_python.chmod(fake_python.stat().st_mode | stat.S_IEXEC)
    settings = _settings_with_python(tmp_path / "home", fake_python)
    with pytest.raises(StudioError, match="converting smollm2-135m-instruct failed: RuntimeError: disk full"):
        resolve_model(DEFAULT_MODEL, settings)
    assert os.listdir(settings.models_dir) == [f".{DEFAULT_MODEL}.lock"]


def test_settings_read_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path))
    monkeypatch.setenv("STUDIO_ADMINS", "alice, bob,")
    settings = load_settings()
    assert settings.home == tmp_path and settings.models_dir == tmp_path / "models"
    assert settings.admins == ("alice", "bob")
    assert set(BUILTIN_MODELS) == {DEFAULT_MODEL}
