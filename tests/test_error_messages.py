"""Errors users read, in their language: every StudioError raised under studio/ carries a key and an English
template, and the UI's Korean table (studio.ui.i18n.ERRORS_KO) holds each key's Korean with the same
placeholders; the UI shows the one the browser asks for."""

import ast
import string
from pathlib import Path

import pytest

from studio.errors import StudioError
from studio.ui.i18n import ERRORS_KO, error_text

STUDIO = Path(__file__).resolve().parents[1] / "studio"
CLI_ONLY = STUDIO / "cli"  # command-line only: its messages stay English


class _Request:
    def __init__(self, header):
        self.headers = {"accept-language": header} if header is not None else {}


KOREAN, ENGLISH, NO_HEADER = _Request("ko-KR,ko;q=0.9"), _Request("en-US,en;q=0.9"), _Request(None)


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def _sites() -> list[tuple[str, int, ast.Call]]:
    """Every StudioError(...) call under studio/ that must carry a key: (file, line, call)."""
    found = []
    for path in sorted(STUDIO.rglob("*.py")):
        name = path.relative_to(STUDIO).as_posix()
        if path.is_relative_to(CLI_ONLY):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Call) and _called_name(node.func) in ("StudioError", "AccessDenied"):
                found.append((name, node.lineno, node))
    return found


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _keyed_templates() -> tuple[dict[str, str], list[str]]:
    """key → English template of every site, and the problems found on the way."""
    templates, problems = {}, []
    for name, line, call in _sites():
        where = f"studio/{name}:{line}"
        first = call.args[0] if call.args else None
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            problems.append(f"{where}: the message must be a plain string template (no f-string)")
            continue
        key = next((k.value for k in call.keywords if k.arg == "key"), None)
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            problems.append(f"{where}: no key=\"...\" (its Korean goes in studio.ui.i18n.ERRORS_KO)")
            continue
        if templates.setdefault(key.value, first.value) != first.value:
            problems.append(f"{where}: key {key.value!r} already names another message")
        params = {k.arg for k in call.keywords if k.arg not in ("key", None)}
        if not any(k.arg is None for k in call.keywords) and params != _placeholders(first.value):
            problems.append(f"{where}: params {sorted(params)} do not match the template's placeholders")
    return templates, problems


def test_every_studio_error_has_a_key_and_an_english_template():
    templates, problems = _keyed_templates()
    assert len(templates) > 100  # the scan sees the raise sites
    assert problems == []


def test_every_key_has_korean_with_the_same_placeholders_and_no_korean_is_unused():
    templates, _ = _keyed_templates()
    assert sorted(set(templates) - set(ERRORS_KO)) == [], "keys without Korean"
    assert sorted(set(ERRORS_KO) - set(templates)) == [], "Korean no StudioError uses"
    pairs = {key: (_placeholders(english), _placeholders(ERRORS_KO[key])) for key, english in
             templates.items()}
    differing = {key: (sorted(english), sorted(korean)) for key, (english, korean) in pairs.items()
                 if english != korean}
    assert differing == {}


def test_the_message_is_the_english_template_formatted_and_the_key_and_params_are_kept():
    error = StudioError("unknown model {ref!r}: give a built-in name ({known})", key="model_unknown",
                        ref="x", known="a, b")
    assert str(error) == "unknown model 'x': give a built-in name (a, b)"
    assert (error.key, error.params) == ("model_unknown", {"ref": "x", "known": "a, b"})
    assert str(StudioError("a {brace} left as is")) == "a {brace} left as is"  # no key: the text itself
    with pytest.raises(TypeError):
        StudioError("params {x}", x=1)  # params without a key would be silently ignored


def test_a_korean_browser_reads_korean_and_an_english_one_english():
    error = StudioError("the file is {size:.1f} GiB; the limit is {limit:.1f} GiB", key="file_too_large",
                        size=2.25, limit=1.0)
    assert error_text(error, ENGLISH) == "the file is 2.2 GiB; the limit is 1.0 GiB"
    korean = "파일 크기가 2.2 GiB로, 한도 1.0 GiB를 넘습니다."
    assert error_text(error, KOREAN) == korean
    assert error_text(error, NO_HEADER) == error_text(error, None) == korean  # Korean first


def test_a_wrapped_studio_error_is_translated_with_the_message_that_holds_it():
    inner = StudioError("{repo} is gated: accept its terms on the Hub and set HF_TOKEN", key="model_gated",
                        repo="org/model")
    outer = StudioError("cannot read the source of {version} ({source}) again: {error}",
                        key="judge_source_unreadable", version="v1", source="hub:org/model", error=inner)
    assert str(outer) == ("cannot read the source of v1 (hub:org/model) again: org/model is gated: accept "
                          "its terms on the Hub and set HF_TOKEN")
    assert error_text(outer, ENGLISH) == str(outer)
    assert error_text(outer, KOREAN) == (
        "v1의 소스(hub:org/model)를 다시 읽을 수 없습니다: org/model은(는) 접근 제한 저장소입니다. "
        "Hub에서 이용 약관에 동의하고 HF_TOKEN을 설정하세요.")


def test_an_error_without_korean_falls_back_to_its_english_message():
    unkeyed = StudioError("something only the CLI says")
    assert error_text(unkeyed, KOREAN) == error_text(unkeyed, ENGLISH) == "something only the CLI says"
    unknown_key = StudioError("a {thing}", key="no_such_key", thing="message")
    assert error_text(unknown_key, KOREAN) == "a message"
    wrapping = StudioError("{missing}; loading its Hub copy {where} failed: {error}",
                           key="run_hub_copy_failed", missing=StudioError("run r: gone"), where="o/r",
                           error=ValueError("boom"))
    assert error_text(wrapping, KOREAN) == "run r: gone. Hub에 올린 사본 o/r도 불러오지 못했습니다: boom"
