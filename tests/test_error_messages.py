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
    """Every StudioError(...) and Phrase(...) call under studio/ that must carry a key: (file, line, call)."""
    found = []
    for path in sorted(STUDIO.rglob("*.py")):
        name = path.relative_to(STUDIO).as_posix()
        if path.is_relative_to(CLI_ONLY):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if not isinstance(node, ast.Call):
                continue
            if _called_name(node.func) in ("StudioError", "AccessDenied", "Phrase") or _keyed_super_init(node):
                found.append((name, node.lineno, node))
    return found


def _keyed_super_init(call: ast.Call) -> bool:
    """`super().__init__(template, key=...)` in a StudioError subclass (ConfigError)."""
    return _called_name(call.func) == "__init__" and any(k.arg == "key" for k in call.keywords)


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


def test_every_studio_error_and_phrase_has_a_key_and_an_english_template():
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


# --- English that would reach a Korean browser unkeyed ---------------------------------------------------

UI = STUDIO / "ui"
SHOWN_BY_GRADIO = ("Error", "Warning", "Info")  # gr.Error(...) and its kin show their text as it is


def _modules(folder: Path = STUDIO) -> list[tuple[str, ast.Module]]:
    return [(path.relative_to(STUDIO).as_posix(), ast.parse(path.read_text(encoding="utf-8")))
            for path in sorted(folder.rglob("*.py")) if not path.is_relative_to(CLI_ONLY)]


def _literal_text(node: ast.expr | None) -> bool:
    """Text written in place: a string, an f-string, or one put together from them."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    return isinstance(node, ast.BinOp) and (_literal_text(node.left) or _literal_text(node.right))


def _unkeyed_text(tree: ast.Module) -> list[tuple[int, str]]:
    """Literal text given where users read it without translation: to gr.Error and its kin, as the action
    of hub_errors, as a ConfigError problem, or appended to a list of problems."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name, first = _called_name(node.func), node.args[0] if node.args else None
        if name in SHOWN_BY_GRADIO and isinstance(node.func, ast.Attribute) and _literal_text(first):
            found.append((node.lineno, f"gr.{name} with literal text (use say() or error_text())"))
        elif name == "hub_errors" and _literal_text(first):
            found.append((node.lineno, "hub_errors with a literal action (make it a Phrase)"))
        elif name == "ConfigError" and isinstance(first, (ast.List, ast.ListComp)):
            items = first.elts if isinstance(first, ast.List) else [first.elt]
            found += [(node.lineno, "a ConfigError problem as literal text (make it a Phrase)")
                      for item in items if _literal_text(item)]
        elif (name == "append" and isinstance(node.func.value, ast.Name)
              and node.func.value.id in ("p", "problems") and _literal_text(first)):
            found.append((node.lineno, "a problem appended as literal text (make it a Phrase)"))
    return found


def test_no_literal_english_reaches_the_ui_unkeyed():
    found = [f"studio/{name}:{line}: {why}" for name, tree in _modules() for line, why in _unkeyed_text(tree)]
    assert found == []


def test_every_ui_handler_knows_its_readers_language():
    """A handler whose failure becomes a message (@user_errors) takes the gr.Request that says the language:
    without it, an English browser would read Korean."""
    deaf = []
    for name, tree in _modules(UI):
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and any(_called_name(d) == "user_errors" or
                                                         getattr(d, "id", None) == "user_errors"
                                                         for d in node.decorator_list):
                arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
                if not any(a.annotation and "Request" in ast.unparse(a.annotation) for a in arguments):
                    deaf.append(f"studio/ui/{name}:{node.lineno} {node.name}")
    assert deaf == []


def test_the_scan_sees_literal_english():
    bad = ['raise gr.Error("the run is gone")', 'raise gr.Warning(f"{n} rows")',
           'with hub_errors(f"reading {repo}", endpoint): pass', 'raise ConfigError(["lr is wrong"])',
           'raise ConfigError([f"{k} is wrong" for k in keys])', 'p.append(f"{name} must be positive")',
           'problems.append("no" + " way")']
    good = ['raise gr.Error(say("x", request))', 'raise gr.Error(error_text(exc, request))',
            'with hub_errors(Phrase("reading {repo}", key="k", repo=r), endpoint): pass',
            'raise ConfigError([Phrase("lr", key="k")])', 'p.append(Phrase("{n}", key="k", n=1))',
            'lines.append(f"free text is fine elsewhere")']
    assert [len(_unkeyed_text(ast.parse(code))) for code in bad] == [1] * len(bad)
    assert [len(_unkeyed_text(ast.parse(code))) for code in good] == [0] * len(good)


def test_keyed_phrases_are_translated_inside_the_message_that_holds_them():
    from studio.errors import Phrase, Phrases
    from studio.training.config import ConfigError, TrainingConfig

    with pytest.raises(ConfigError) as caught:
        TrainingConfig.from_dict({"lora_r": 0, "lr": "fast", "colour": "red"})
    error = caught.value
    assert str(error) == ("invalid training configuration: unknown parameter 'colour'; lr: expected a number, "
                          "got 'fast'")
    assert error_text(error, KOREAN) == ("학습 설정이 잘못되었습니다: 알 수 없는 파라미터 'colour'; "
                                         "lr: 숫자여야 하는데 'fast'입니다")
    assert all(isinstance(problem, Phrase) for problem in error.problems)
    with pytest.raises(ConfigError) as caught:
        TrainingConfig(lora_r=0)
    assert error_text(caught.value, KOREAN) == (
        "학습 설정이 잘못되었습니다: lora_r은(는) [1, 1024] 범위여야 하는데(LoRA 행렬의 랭크) 0입니다")
    words = Phrases([Phrase("{count} missing", key="data_drop_missing", count=2), "as is"], separator=", ")
    assert f"{words}" == "2 missing, as is" and error_text(words, KOREAN) == "빠진 값 2행, as is"
