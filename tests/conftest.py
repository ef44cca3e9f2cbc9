"""Shared test setup: no network beyond 127.0.0.1, a private STUDIO_HOME, the offline default model."""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest

# Before any test imports huggingface_hub or datasets: never reach the Hub, even by accident.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("DO_NOT_TRACK", "1")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost would need DNS: not local


class NetworkAccessError(RuntimeError):
    pass


def _guarded(real):
    def connect(sock, address):
        if not _is_local(address):
            raise NetworkAccessError(f"test tried to reach the network: {address!r}")
        return real(sock, address)

    return connect


@pytest.fixture(autouse=True, scope="session")
def no_network():
    """Fail any test that opens a connection to anything but the loopback interface."""
    socket.socket.connect = _guarded(_real_connect)
    socket.socket.connect_ex = _guarded(_real_connect_ex)
    yield
    socket.socket.connect = _real_connect
    socket.socket.connect_ex = _real_connect_ex


@pytest.fixture
def studio_home(tmp_path, monkeypatch):
    """A fresh, empty STUDIO_HOME for one test."""
    home = tmp_path / "studio-home"
    monkeypatch.setenv("STUDIO_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def model_home(tmp_path_factory):
    """A STUDIO_HOME holding the offline default model, converted once per test session (~25 s)."""
    from studio.models import BUILTIN_MODELS, ensure_builtin
    from studio.settings import DEFAULT_MODEL, load_settings

    home = tmp_path_factory.mktemp("model-home")
    os.environ["STUDIO_HOME"] = str(home)
    try:
        ensure_builtin(BUILTIN_MODELS[DEFAULT_MODEL], load_settings())
    finally:
        del os.environ["STUDIO_HOME"]
    return home


@pytest.fixture
def offline_model(model_home, monkeypatch):
    """The converted offline default model, with STUDIO_HOME pointing at its home for this test."""
    from studio.settings import DEFAULT_MODEL

    monkeypatch.setenv("STUDIO_HOME", str(model_home))
    return model_home / "models" / DEFAULT_MODEL


@pytest.fixture(scope="session")
def sample_version_id(model_home):
    """The bundled sample prepared once per session (20 % of the training rows), in the model's STUDIO_HOME."""
    from studio.data import PrepareOptions, prepare_dataset

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STUDIO_HOME", str(model_home))
        return prepare_dataset("sample", PrepareOptions(fraction=0.2)).id
