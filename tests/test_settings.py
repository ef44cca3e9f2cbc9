import logging

from studio.settings import Secret, load_settings


def test_secrets_never_print(monkeypatch, caplog):
    monkeypatch.setenv("HF_TOKEN", "hf_supersecret")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-supersecret")
    settings = load_settings()
    token, key = settings.hf_token, settings.openai_api_key
    logging.getLogger("test").warning("token=%s key=%r settings=%r", token, key, settings)
    shown = caplog.text + repr(token) + str(key) + f"{token}" + repr(settings)
    assert "supersecret" not in shown
    assert token.reveal() == "hf_supersecret" and key.reveal() == "sk-supersecret"


def test_missing_or_blank_secret_is_none(monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "  ")
    settings = load_settings()
    assert settings.hf_token is None and settings.openai_api_key is None


def test_secret_truthiness():
    assert Secret("x") and not Secret("")
