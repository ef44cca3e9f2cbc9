"""The web app over real HTTP: the Playground endpoint answers through Gradio's own client."""

import pytest
from gradio_client import Client

from studio.ui.examples import GAME_DDL, QUESTIONS
from studio.ui.i18n import EN, KO, MESSAGES, language_of
from tests.app_support import served_app


@pytest.fixture
def running_app(offline_model):
    with served_app() as url:
        yield url


def test_playground_turns_the_prefilled_question_into_sql(running_app):
    client = Client(running_app, verbose=False, headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    sql, status, completion, prompt = client.predict(
        "smollm2-135m-instruct", "", GAME_DDL, QUESTIONS[0], 32, api_name="/generate_sql")
    assert sql and completion.startswith(sql)
    assert prompt.endswith(f"### Question:\n{QUESTIONS[0]}\n\n### SQL:\n")
    assert status.startswith("생성 완료")


@pytest.mark.parametrize("headers, message", [
    ({}, "알 수 없는 모델입니다: 'no-such-model'. 내장 모델 이름(smollm2-135m-instruct)"),  # Korean first
    ({"Accept-Language": "ko-KR,ko;q=0.9"}, "알 수 없는 모델입니다: 'no-such-model'"),
    ({"Accept-Language": "en-US"}, "unknown model 'no-such-model': give a built-in name (smollm2-135m"),
])
def test_playground_errors_are_messages_in_the_browsers_language_not_tracebacks(running_app, headers,
                                                                               message):
    client = Client(running_app, verbose=False, headers=headers)
    with pytest.raises(Exception) as raised:
        client.predict("no-such-model", "", GAME_DDL, QUESTIONS[0], 32, api_name="/generate_sql")
    assert message in str(raised.value)
    assert "Traceback" not in str(raised.value)


def test_both_languages_have_the_same_keys():
    assert KO.keys() == EN.keys()
    assert MESSAGES["ko"].keys() == MESSAGES["en"].keys()


class _Request:
    def __init__(self, header):
        self.headers = {"accept-language": header} if header is not None else {}


@pytest.mark.parametrize(
    "header, language",
    [("ko-KR,ko;q=0.9,en;q=0.8", "ko"), ("en-US,en;q=0.9", "en"), ("fr-FR", "ko"), (None, "ko"),
     ("fr,en;q=0.5,ko;q=0.4", "en")],
)
def test_run_time_messages_follow_the_browser_korean_first(header, language):
    assert language_of(_Request(header)) == language
