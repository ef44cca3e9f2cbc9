"""Every bad-input class gets a clear message (or is accepted, counted and noted)."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from studio.data.files import ReadLimits
from studio.data.validation import NOTE_TEXTS, Note, check_file, read_file
from studio.errors import StudioError
from studio.ui.i18n import MESSAGES
from tests.data_fixtures import BOOK_DDL

HEADER = "db_id,context,question,answer\n"
ROW = '1,"CREATE TABLE t (x INT);",행은 몇 개인가요?,SELECT COUNT(*) FROM t;\n'


def write(tmp_path, name: str, content: str | bytes):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def note_texts(report) -> list[str]:
    """The notes as the CLI prints them."""
    return [str(note) for note in report.notes]


def rejected(path, **kwargs) -> str:
    with pytest.raises(StudioError) as caught:
        check_file(path, **kwargs)
    return str(caught.value)


def test_empty_file(tmp_path):
    assert rejected(write(tmp_path, "a.csv", "")) == "the file is empty"
    assert rejected(write(tmp_path, "b.jsonl", "\n  \n")) == "the file is empty"


def test_header_only(tmp_path):
    assert rejected(write(tmp_path, "a.csv", HEADER)) == "the file has a header but no data rows"


def test_missing_columns_are_named(tmp_path):
    message = rejected(write(tmp_path, "a.csv", "db_id,ctx,q,answer\n1,x,y,z\n"))
    assert message.startswith("missing required column(s): context, question")
    assert "found: db_id, ctx, q, answer" in message


def test_a_mapping_and_known_aliases_resolve_other_names(tmp_path):
    path = write(tmp_path, "a.csv", "db,ctx,q,query\n1,x,y,z\n")
    report = check_file(path, mapping={"context": "ctx", "question": "q"})
    assert report.rows == 1
    assert report.mapping == {"context": "ctx", "question": "q", "answer": "query", "db_id": "db"}
    assert "using column 'query' as answer" in note_texts(report)
    assert "mapped column(s) not in the data: nope" in rejected(path, mapping={"question": "nope"})


def test_broken_json_names_the_line(tmp_path):
    good = json.dumps({"db_id": 1, "context": "c", "question": "q", "answer": "a"})
    path = write(tmp_path, "a.jsonl", f"{good}\n{good[:-1]}\n")
    assert rejected(path).startswith("line 2 is not valid JSON: Expecting")
    array = write(tmp_path, "b.json", f'[\n{good},\n{{"db_id": 1 "context": "c"}}\n]')
    assert rejected(array).startswith("line 3 is not valid JSON")
    assert (
        rejected(write(tmp_path, "c.jsonl", '["a list"]\n'))
        == "line 1 is not a JSON object with named fields"
    )


def test_json_array_and_json_lines_named_json_are_read(tmp_path):
    rows = [{"db_id": 1, "context": "c", "question": f"q{i}", "answer": "a"} for i in range(3)]
    assert check_file(write(tmp_path, "a.json", json.dumps(rows))).rows == 3
    assert check_file(write(tmp_path, "b.json", "\n".join(map(json.dumps, rows)))).rows == 3
    frame, _ = read_file(write(tmp_path, "c.json", json.dumps({"data": rows})))
    assert frame["db_id"].tolist() == ["1", "1", "1"]  # numbers become text


def test_binary_data(tmp_path):
    assert rejected(write(tmp_path, "a.csv", b"PK\x03\x04\x14\x00rest")) == (
        "the file is binary data, not CSV text: it looks like a ZIP archive (an Excel .xlsx file?)"
    )
    assert rejected(write(tmp_path, "b.csv", b"a,b\x00\x01\x02,c")) == "the file is binary data, not CSV text"
    assert rejected(write(tmp_path, "c.parquet", HEADER + ROW)) == "not a Parquet file"


def test_korean_cp949_is_decoded(tmp_path):
    path = tmp_path / "excel.csv"
    pd.DataFrame(
        {
            "db_id": ["1"],
            "context": [BOOK_DDL],
            "question": ["가입한 플레이어는 몇 명인가요?"],
            "answer": ["SELECT COUNT(*) FROM players;"],
        }
    ).to_csv(path, index=False, encoding="cp949")
    frame, report = read_file(path)
    assert report.encoding == "cp949" and report.notes[0] == Note("cp949")
    assert frame.loc[0, "question"] == "가입한 플레이어는 몇 명인가요?"
    euc_kr = tmp_path / "euc-kr.csv"
    euc_kr.write_bytes((HEADER + ROW).encode("euc-kr"))
    assert read_file(euc_kr)[0].loc[0, "question"] == "행은 몇 개인가요?"


def test_other_encodings_are_refused_with_the_offset(tmp_path):
    path = write(tmp_path, "a.csv", (HEADER + "1,x,caf\xe9 \xff\x80,y\n").encode("latin-1"))
    assert rejected(path) == (
        "the file is not UTF-8 text, nor Korean CP949/EUC-KR (undecodable byte at offset 37); "
        "save it as UTF-8 and upload it again"
    )


def test_utf8_bom_and_utf16_are_accepted(tmp_path):
    report = check_file(write(tmp_path, "a.csv", "\ufeff" + HEADER + ROW))
    assert report.rows == 1 and report.encoding == "utf-8-sig" and report.mapping["db_id"] == "db_id"
    assert check_file(write(tmp_path, "b.tsv", (HEADER + ROW).replace(",", "\t").encode("utf-16"))).rows == 1


def test_extra_columns_are_accepted_and_noted(tmp_path):
    report = check_file(write(tmp_path, "a.csv", "db_id,context,question,answer,source,note\n1,c,q,a,x,y\n"))
    assert report.rows == 1 and report.extra_columns == ["source", "note"]
    assert "ignored column(s): source, note" in note_texts(report)


def test_absurdly_long_fields_are_dropped_in_bounded_time(tmp_path):
    huge = "x" * 20_000_000
    path = write(tmp_path, "a.csv", HEADER + ROW + f'1,"{huge}",q,a\n' + ROW.replace("행", "열"))
    started = time.perf_counter()
    report = check_file(path)
    assert time.perf_counter() - started < 10
    assert report.rows == 2 and report.dropped_by_reason["too_long"] == 1
    with pytest.raises(StudioError, match="no usable rows: all 1 were dropped \\(1 too long\\)"):
        check_file(write(tmp_path, "c.csv", HEADER + ROW), limits=ReadLimits(max_field_chars=10))
    assert "the limit is" in rejected(path, limits=ReadLimits(max_file_bytes=1000))


def test_missing_values_and_duplicates_are_dropped_and_counted(tmp_path):
    padded = ROW.replace("행은 몇 개인가요?", "  행은 몇 개인가요?  ")
    content = HEADER + ROW + ROW + "1,,q,a\n2,c,   ,a\n,c,q2,a\n" + padded
    frame, report = read_file(write(tmp_path, "a.csv", content))
    assert (report.total, report.rows, report.dropped) == (6, 1, 5)
    assert report.dropped_by_reason == {"missing": 3, "duplicate": 2, "too_long": 0}
    assert report.missing_by_column == {"context": 1, "question": 1, "db_id": 1}
    assert report.to_dict()["rows"] == 1 and report.to_dict()["dropped"] == 5
    assert frame.loc[0, "question"] == "행은 몇 개인가요?"


def test_no_db_id_column_puts_rows_in_one_database(tmp_path):
    frame, report = read_file(write(tmp_path, "a.csv", "context,question,answer\nc,q,a\n"))
    assert frame["db_id"].tolist() == ["default"] and "no db_id column" in note_texts(report)[0]


def test_parquet_and_unsupported_types(tmp_path):
    path = tmp_path / "a.parquet"
    pd.DataFrame(
        {"db_id": [1, 2], "context": ["c", "c"], "question": ["q", None], "answer": ["a", "a"]}
    ).to_parquet(path)
    frame, report = read_file(path)
    assert frame["db_id"].tolist() == ["1"] and report.dropped_by_reason["missing"] == 1
    assert rejected(write(tmp_path, "a.xlsx", "x")).startswith("unsupported file type '.xlsx'")
    assert rejected(tmp_path / "nothing.csv").startswith("no such file")


def test_malformed_csv_is_a_message(tmp_path):
    first = rejected(write(tmp_path, "a.csv", HEADER + "1,a,b,c,d,e\n"))
    assert first == "the CSV file cannot be parsed: a row has more fields than the header"
    later = rejected(write(tmp_path, "b.csv", HEADER + ROW + "1,a,b,c,d,e\n"))
    assert later.startswith("the CSV file cannot be parsed: Expected 4 fields in line 3, saw 6")


def test_notes_carry_a_key_and_parameters_and_read_as_before_in_english(tmp_path):
    path = write(tmp_path, "a.csv", "ctx,question,sql,source\nc,몇 개인가요?,a,x\n".encode("cp949"))
    report = check_file(path, mapping={"context": "ctx"})
    assert report.notes == [
        Note("cp949"),
        Note("alias", {"column": "sql", "ours": "answer"}),
        Note("no_db_id", {"db_id": "default"}),
        Note("ignored_columns", {"columns": "source"}),
    ]
    english = [
        "decoded as CP949 (EUC-KR), the Korean Windows encoding",
        "using column 'sql' as answer",
        "no db_id column: every row belongs to database 'default' (use a random split)",
        "ignored column(s): source",
    ]
    assert note_texts(report) == english
    assert json.loads(json.dumps(report.to_dict()))["notes"] == english  # the CLI's JSON: sentences


def test_every_note_has_a_ui_text_in_both_languages_and_the_english_is_the_clis():
    for key, english in NOTE_TEXTS.items():
        assert MESSAGES["en"][f"data_note_{key}"] == english
        assert MESSAGES["ko"][f"data_note_{key}"] != english
