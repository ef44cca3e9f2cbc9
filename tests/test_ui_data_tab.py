"""The Data tab over real HTTP (Gradio's own client): the bundled sample loads with its report and counts, a
saved version shows in the list and the registry, an upload is mapped and split at random, token lengths
are counted, bad uploads get a clear message instead of a traceback, and the judge filter estimates, runs
(against the OpenAI stand-in), refuses anonymous callers on a shared deployment and explains a bad judge."""

import re
import socket
from contextlib import contextmanager
from types import SimpleNamespace

import pandas as pd
import pytest
from gradio_client import Client, handle_file

from evaluation.testing.openai_standin import OpenAIStandin
from studio import access
from studio.data import PrepareOptions, get_version, list_versions, prepare_dataset
from tests.app_support import served_app
from tests.data_fixtures import BOOK_DDL, install_sample, write_hub_standin
from tests.test_data_judge_filter import WRONG, fair_judge, write_rows

NO_MAPPING = ("",) * 5  # db_id, context, question, answer, difficulty
SAMPLE = ("sample", None, "", "", "", *NO_MAPPING)  # source kind, upload, hub id, config, split, mapping
BOOK_SPLIT = ("holdout", "1", 0.1)  # split kind, held-out db ids, random evaluation share


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _running_client(language: str = "en-US"):
    with served_app() as url:
        yield Client(url, verbose=False, headers={"Accept-Language": language})


@pytest.fixture
def client(studio_home):
    install_sample(studio_home)
    with _running_client() as client:
        yield client


@pytest.fixture
def model_client(offline_model):
    with _running_client() as client:
        yield client


def _upload(client, path, mapping=NO_MAPPING):
    return client.predict("file", handle_file(str(path)), "", "", "", *mapping, api_name="/data_load")


def _players_csv(path, columns=("ddl", "q", "gold")):
    """Ten DDL-only rows on the book's players table, under the given column names."""
    rows = [(BOOK_DDL, f"{i}번 플레이어의 이름은?", f"SELECT username FROM players WHERE player_id = {i};")
            for i in range(10)]
    pd.DataFrame(rows, columns=list(columns)).to_csv(path, index=False)
    return path


def _total(counts: dict, db_id: str = "total") -> int:
    """The `total` column of a row of the rows-per-database × difficulty table."""
    return next(row[-1] for row in counts["data"] if row[0] == db_id)


def test_the_sample_loads_with_its_report_counts_and_split(client):
    report, preview, counts, plot = client.predict(*SAMPLE, api_name="/data_load")
    rows, game = _total(counts), _total(counts, "1")
    assert f"Kept **{rows} rows** and dropped **0** of {rows}" in report
    assert "Source: bundled sample" in report and "128 domains (120 synthesized), 1 held out (game)" in report
    assert [row[0] for row in counts["data"]] == [str(d) for d in range(1, 9)] + [
        f"s{i:03d}" for i in range(1, 121)] + ["total"]
    assert preview["headers"] == ["db_id", "context", "question", "answer", "difficulty"]
    assert len(preview["data"]) == 20
    assert sum(row[-1] for row in plot["data"]) == rows  # the bar plot: db_id, difficulty, rows

    split = client.predict(*BOOK_SPLIT, 0.4, 42, api_name="/data_split")
    train = rows - game
    assert split == (f"Training rows: {round(train * 0.4)} of {train} used · evaluation rows: {game}"
                     " (before the execution filter)")
    hand = sum(_total(counts, str(d)) for d in range(2, 9))  # the hand-written schemas only
    split = client.predict(*BOOK_SPLIT, 1.0, 42, "hand", api_name="/data_split")
    assert split.startswith(f"Training rows: {hand} of {hand} used · evaluation rows: {game}")
    split = client.predict("holdout", "99", 0.1, 1.0, 42, api_name="/data_split")
    assert split.startswith("⚠️ held-out database(s) 99 not in the data")


def test_a_saved_version_is_listed_and_registered(client):
    counts = client.predict(*SAMPLE, api_name="/data_load")[2]
    train = _total(counts) - _total(counts, "1")
    message, table = client.predict(*BOOK_SPLIT, 0.2, 42, True, "ui-fifth", api_name="/data_save")
    version_id = re.search(r"ds-[0-9a-f]{12}", message).group()
    assert message.startswith(f"✅ Saved version **{version_id}**: training rows {round(train * 0.2)},")
    assert [version_id, "ui-fifth", "sample", "holdout:1", 0.2] == table["data"][0][:5]
    assert client.predict(api_name="/data_versions")["data"][0][0] == version_id

    version = get_version(version_id)
    assert version.train_rows == round(train * 0.2)
    assert version.counts["eval_by_db"] == {"1": _total(counts, "1")}
    assert version.train_csv.is_file() and version.options["fraction"] == 0.2


def test_an_upload_is_mapped_and_split_at_random(client, tmp_path):
    path = _players_csv(tmp_path / "players.csv")
    report, preview, counts, _plot = _upload(client, path, ("", "ddl", "q", "gold", ""))
    assert "Kept **10 rows**" in report and "Source: players.csv (csv, utf-8)" in report
    assert preview["headers"] == ["db_id", "context", "question", "answer"]
    assert preview["data"][3][2:] == ["3번 플레이어의 이름은?", "SELECT username FROM players WHERE player_id = 3;"]
    assert "no db_id column: every row belongs to database 'default'" in report
    assert [row[0] for row in counts["data"]] == ["default", "total"]

    assert "not in the data" in client.predict(*BOOK_SPLIT, 1.0, 42, api_name="/data_split")
    message, _table = client.predict("random", "", 0.2, 1.0, 7, True, "", api_name="/data_save")
    assert ": training rows 8, evaluation rows 2" in message
    assert "(dropped by the execution filter: 0 training, 0 evaluation)" in message


def test_a_hub_data_set_loads_by_id_config_and_split(client, tmp_path):
    folder = write_hub_standin(tmp_path / "ko_text2sql")  # a local folder laid out like the Hub repository
    report, _preview, counts, _plot = client.predict("hub", None, str(folder), "origin", "train", *NO_MAPPING,
                                                     api_name="/data_load")
    assert f"Source: hub:{folder}:origin:train" in report
    assert "Kept **3 rows** and dropped **1** of 4" in report and "missing value 1" in report
    assert [row[0] for row in counts["data"]] == ["2", "3", "total"]


def test_token_lengths_and_what_a_block_size_truncates(model_client, tmp_path):
    _upload(model_client, _players_csv(tmp_path / "players.csv", ("context", "question", "answer")))
    summary, histogram, truncation = model_client.predict("smollm2-135m-instruct", 1024,
                                                          api_name="/data_tokens")
    assert [row[0] for row in summary["data"]] == ["prompt", "answer", "total"]
    longest = summary["data"][2][-1]
    assert truncation == (f"With block_size 1024, **0 of 10 rows (0.0%)** are truncated."
                          f" The longest row has {longest} tokens.")
    assert sum(row[3] for row in histogram["data"] if row[0] == "total") == 10
    assert "**10 of 10 rows (100.0%)**" in model_client.predict(longest - 1, api_name="/data_truncation")


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "the file is empty"),
        ("context,question,answer\n", "the file has a header but no data rows"),
        ("context,question\nCREATE TABLE t (a INT);,몇 개?\n", "missing required column(s): answer"),
    ],
    ids=["empty", "header-only", "missing-column"],
)
def test_bad_uploads_get_a_clear_message(client, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(Exception) as raised:
        _upload(client, path)
    assert message in str(raised.value) and "Traceback" not in str(raised.value)


def test_steps_out_of_order_say_what_to_do_in_korean(studio_home):
    with _running_client("ko-KR,ko;q=0.9") as client:
        with pytest.raises(Exception, match="업로드할 파일을 고르세요"):
            client.predict("file", None, "", "", "", *NO_MAPPING, api_name="/data_load")
        with pytest.raises(Exception, match="먼저 ‘불러와 검증’으로 데이터를 불러오세요"):
            client.predict(*BOOK_SPLIT, 1.0, 42, True, "", api_name="/data_save")
        with pytest.raises(Exception, match="먼저 ‘불러와 검증’으로 데이터를"):
            client.predict("smollm2-135m-instruct", 1024, api_name="/data_tokens")
        with pytest.raises(Exception, match="판정 모델 이름을 입력하세요"):
            client.predict("ds-000000000000", " ", "", "", api_name="/data_judge_estimate")


def test_a_korean_browser_gets_the_report_and_its_notes_in_korean(studio_home, tmp_path):
    path = tmp_path / "excel.csv"  # what Excel saves on Korean Windows: CP949, its own column names
    rows = [(BOOK_DDL, "가입한 플레이어는 몇 명인가요?", "SELECT COUNT(*) FROM players;", "엑셀")] * 2
    pd.DataFrame(rows, columns=["context", "질문", "answer", "출처"]).to_csv(path, index=False, encoding="cp949")
    with _running_client("ko-KR,ko;q=0.9") as client:
        report = _upload(client, path)[0]
    assert "전체 2행 중 **1행**을 쓰고 **1행**을 뺐습니다" in report
    assert "뺀 이유: 빈 값 0 · 중복 1 · 너무 긴 필드 0" in report
    assert "- 한국어 Windows 인코딩인 CP949(EUC-KR)로 읽었습니다." in report
    assert "- ‘질문’ 열을 question 열로 씁니다." in report
    assert "- db_id 열이 없어 모든 행이 데이터베이스 ‘default’에 속합니다" in report
    assert "- 쓰지 않는 열: 출처" in report
    assert not any(english in report for english in ("decoded", "using column", "no db_id", "ignored"))


# --- the judge filter (the book's GPT filter) against the OpenAI stand-in ------------------------------

TYPED_KEY = "sk-typed-for-this-session-only"


@pytest.fixture
def judged(studio_home, tmp_path, monkeypatch):
    """A tiny prepared version (two of its five training rows have a wrong SQL), the stand-in judge, the app;
    no OPENAI_API_KEY, so the key typed in the tab is the one that reaches the judge."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    version = prepare_dataset(str(write_rows(tmp_path)), PrepareOptions(name="tiny"))
    with fair_judge() as standin, _running_client() as client:
        yield SimpleNamespace(client=client, standin=standin, version=version, home=studio_home)


def _judge_inputs(judged, key=TYPED_KEY, base_url=None):
    return judged.version.id, "gpt-4o-mini", base_url or judged.standin.base_url, key


def test_the_judge_filter_shows_the_cost_first_then_drops_the_rejected_rows(judged):
    estimate = judged.client.predict(*_judge_inputs(judged), api_name="/data_judge_estimate")
    assert estimate.startswith(f"**{judged.version.id}** has 5 training rows: 5 judge requests (0 cached),")
    assert re.search(r"about \$0\.000\d+\. ‘Judge and filter’ is now open", estimate)
    assert judged.standin.count() == 0  # an estimate asks nothing

    message, table, picker = judged.client.predict(*_judge_inputs(judged), api_name="/data_judge_filter")
    new_id = re.search(r"New version \*\*(ds-[0-9a-f]{12})\*\*", message).group(1)
    assert message.startswith("✅ Dropped **2 of 5 rows** the judge read (0 kept because the judge could")
    assert ": 3 training rows, 1 evaluation rows." in message
    assert table["data"][0][:2] == [new_id, "tiny-judged"] and new_id in [c[0] for c in picker["choices"]]
    filtered = get_version(new_id)
    assert filtered.train_rows == 3 and WRONG not in filtered.train_frame()["question"].str.cat()
    assert judged.standin.count() == 5
    assert {r.authorization for r in judged.standin.requests} == {f"Bearer {TYPED_KEY}"}
    stored = [p.read_bytes() for p in judged.home.rglob("*") if p.is_file()]
    assert not any(TYPED_KEY.encode() in data for data in stored)  # the typed key is never written

    again = judged.client.predict(*_judge_inputs(judged), api_name="/data_judge_estimate")
    assert "0 judge requests (5 cached)" in again and "about $0.0000." in again  # verdicts are cached


def test_an_anonymous_caller_may_not_spend_judge_credits_on_a_shared_deployment(judged, monkeypatch):
    on_space = {"SPACE_ID": "alice/studio", "OAUTH_CLIENT_ID": "id", "STUDIO_ADMINS": "alice"}
    for name, value in on_space.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(access, "_policy", None)  # restored after the test
    access.configure("0.0.0.0")
    with pytest.raises(Exception, match="only the studio's admins may spend judge credits.*sign in") as no:
        judged.client.predict(*_judge_inputs(judged), api_name="/data_judge_filter")
    assert "Traceback" not in str(no.value)
    assert judged.standin.count() == 0 and [v.id for v in list_versions()] == [judged.version.id]


class KeyCheckingStandin(OpenAIStandin):
    """The stand-in, answering 401 like OpenAI (the message quotes the key) to any key but one."""

    def complete(self, body: dict, api_key: str = "") -> tuple[int, dict]:
        if api_key != TYPED_KEY:
            return 401, {"error": {"message": f"Incorrect API key provided: {api_key}",
                                   "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}
        return super().complete(body, api_key)


def test_a_bad_key_or_an_unreachable_judge_gets_a_clear_message_and_saves_nothing(judged):
    wrong_key = "sk-wrong-key-0123456789"
    with KeyCheckingStandin() as strict:
        with pytest.raises(Exception) as refused:
            judged.client.predict(*_judge_inputs(judged, wrong_key, strict.base_url),
                                  api_name="/data_judge_filter")
        assert strict.count() == 1  # the first row's failure stops the run
    message = str(refused.value)
    assert "the judge could not answer (HTTP 401: Incorrect API key provided:" in message
    assert "check the judge model, the base URL and the API key; no data set was saved" in message
    assert wrong_key not in message and "Traceback" not in message

    nobody = f"http://127.0.0.1:{_free_port()}/v1"  # nothing listens there
    with pytest.raises(Exception, match=r"the judge could not answer \(APIConnectionError: Connection error"):
        judged.client.predict(*_judge_inputs(judged, base_url=nobody), api_name="/data_judge_filter")
    assert [v.id for v in list_versions()] == [judged.version.id]


def test_adapt_reads_a_schema_into_a_glossary_then_synthesizes_a_version(client, tmp_path):
    """The adapt section: the uploaded database's schema as an editable glossary (words from its comments,
    inferred roles), then pairs worded by the edited table, saved as a version."""
    from tests.test_adapt import shop_database

    database = handle_file(str(shop_database(tmp_path / "shop.sqlite")))
    table, message = client.predict(database, None, api_name="/data_adapt_schema")
    glossary = pd.DataFrame(table["data"], columns=table["headers"])
    assert list(glossary.columns) == ["table", "column", "korean", "role", "unit"]
    assert "Read 3 tables and 14 columns" in message
    grade = glossary[(glossary["table"] == "members") & (glossary["column"] == "grade")].iloc[0]
    assert (grade["korean"], grade["role"]) == ("등급", "category")
    glossary.loc[glossary["table"] == "members", "korean"] = glossary["korean"].where(
        glossary["column"] != "", "손님")  # the edited table's word for members wins over the comment
    report, pairs, _versions = client.predict(database, {"headers": list(glossary.columns),
                                                         "data": glossary.values.tolist()},
                                              60, 0, "myshop", 0.0, api_name="/data_adapt_synthesize")
    version_id = re.search(r"New version \*\*(ds-\w+)\*\*", report).group(1)
    questions = [row[0] for row in pairs["data"]]
    assert "Made 60 pairs for **myshop**" in report and any("손님" in q for q in questions)
    assert "audit_log: no Korean word for the table" in report
    assert get_version(version_id).source["kind"] == "synthesized"


def test_adapt_without_a_database_says_what_to_do_in_korean(studio_home):
    install_sample(studio_home)
    with _running_client("ko-KR") as korean:
        with pytest.raises(Exception, match="먼저 SQLite 데이터베이스 파일을 올리세요"):
            korean.predict(None, None, api_name="/data_adapt_schema")


def test_adapt_proposes_missing_words_after_showing_the_cost(client, tmp_path):
    from tests.test_adapt import _proposer, shop_database

    database = handle_file(str(shop_database(tmp_path / "shop.sqlite")))
    table, _ = client.predict(database, None, api_name="/data_adapt_schema")
    message = client.predict(database, "gpt-4o-mini", api_name="/data_adapt_propose_estimate")
    assert message.startswith("One request, about")  # (the button it opens is the page's, not the API's)
    with OpenAIStandin(reply=_proposer) as server:
        table, message = client.predict(database, table, "gpt-4o-mini", server.base_url, "sk-typed",
                                        api_name="/data_adapt_propose")
    words = {(row[0], row[1]): row[2] for row in table["data"]}
    assert words[("audit_log", "")] == "감사 기록" and words[("members", "nickname")] == "닉네임"
    assert "proposed 2 words (2 dropped" in message
