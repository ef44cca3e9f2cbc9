"""Hostile inputs: names that try to be paths, SQL that tries to write, escape or never end, and the secrets
a shared deployment holds, each recognizable wherever it might leak."""

from __future__ import annotations

import json
from pathlib import Path

# Recognizable secrets: set in the environment of the shared deployment, searched for in every response.
HF_TOKEN = "hf_secdLEAKCANARYhubtoken0123456789"
OPENAI_API_KEY = "sk-secd-LEAKCANARY-openai-0123456789"
ADMIN = ("root", "pw-secd-LEAKCANARY-admin")
GUEST = ("guest", "pw-secd-LEAKCANARY-guest")
# Written into files beyond STUDIO_HOME (a data set folder, a YAML file): a response holding it read them.
SERVER_FILE_MARKER = "secd-LEAKCANARY-server-file"
NEVER_STORED = (HF_TOKEN, OPENAI_API_KEY, ADMIN[1], GUEST[1])  # in no file, log or registry row either
SECRETS = (*NEVER_STORED, SERVER_FILE_MARKER)

# The probe wrote here (`db_id` = /tmp/x/pwned); no test may create it.
PROBE_DIR = Path("/tmp/x")


def plant_server_files(outside: Path) -> None:
    """Things worth reading beyond STUDIO_HOME: a folder laid out like a Hub data set, a preset-like YAML."""
    (outside / "dataset").mkdir(exist_ok=True)
    row = {"db_id": "x", "context": "CREATE TABLE t (a INT);", "question": SERVER_FILE_MARKER,
           "answer": "SELECT a FROM t"}
    (outside / "dataset" / "train.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    preset = f"base_model: {SERVER_FILE_MARKER}\nproject_name: {SERVER_FILE_MARKER}\n"
    (outside / "preset.yml").write_text(preset, encoding="utf-8")


def traversal_corpus(outside: Path) -> dict[str, str]:
    """Names that would reach `outside` (a folder beyond STUDIO_HOME), or the file system at large, if joined
    into a path unchecked, or read what `plant_server_files` put there. Keyed by what each tries."""
    target = outside / "pwned"
    up = "../" * 24  # more levels than any STUDIO_HOME has: lands at / wherever it is joined
    return {
        "server-folder": str(outside / "dataset"),
        "server-file": str(outside / "preset.yml"),
        "server-file-relative": up + str(outside / "preset.yml").lstrip("/"),
        "system-folder": "/etc",
        "absolute": str(target),
        "issue-probe": str(PROBE_DIR / "pwned"),
        "dot-dot": up + str(target).lstrip("/"),
        "dot-dot-inside": "a/../../pwned",
        "backslash": ("..\\" * 24) + str(target).lstrip("/").replace("/", "\\"),
        "nul": "ok\x00" + str(target),
        "very-long": "a" * 5000,
        "fullwidth-solidus": str(target).replace("/", "\uff0f"),  # U+FF0F: looks like / (not one on POSIX)
        "division-slash": ".." + "\u2215" + ".." + "\u2215" + "pwned",  # U+2215
        "home": "~/pwned",
        "home-of-root": "~root/pwned",
        "percent-encoded": "%2e%2e%2f" * 24 + str(target).lstrip("/").replace("/", "%2f"),
        "dot": ".",
        "dot-dot-alone": "..",
        "newline": "pwned\n../x",
    }


# Databases for the SQL corpus have one table t(a INTEGER, b TEXT) with a few rows.
INSTR_TERMS = 40
# The query: each instr() over a megabyte string is one SQLite step, so a deadline checked between
# steps comes ~1 s late per term (34 s under a 3 s timeout, measured).
INSTR_BOMB = ("WITH s(h, n) AS (SELECT replace(hex(zeroblob(499000)), '0', 'a'), "
              "replace(hex(zeroblob(25000)), '0', 'a') || 'b') SELECT "
              + " + ".join(["instr(h, n)"] * INSTR_TERMS) + " FROM s")

# Each of these must end within the timeout plus one second (an error, a timeout, or a bounded result).
RUNAWAY_SQL = {
    "instr-bomb": INSTR_BOMB,
    "endless-recursive-cte": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                             "SELECT count(*) FROM c",
    "recursive-cte-strings": "WITH RECURSIVE c(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM c) "
                             "SELECT max(length(s)) FROM c",
    "cross-join-bomb": "SELECT count(*) FROM t a, t b, t c, t d, t e, t f, t g, t h, t i, t j, t k, t l",
    "zeroblob-bomb": "SELECT zeroblob(2000000000)",
    "zeroblob-length": "SELECT length(zeroblob(1500000000))",
    "randomblob-bomb": "SELECT hex(randomblob(900000000))",
    "printf-bomb": "SELECT printf('%.*c', 2000000000, 'x')",
    "replace-bomb": "SELECT replace(replace(replace(hex(zeroblob(400000)), '0', '00000000'), "
                    "'0', '00000000'), '0', '00000000')",
    "many-big-rows": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 200) "
                     "SELECT hex(zeroblob(499000)) FROM c",
    "deep-nesting": "SELECT " + "(" * 5000 + "1" + ")" * 5000,
}

# Each of these must be refused, leaving the database and the file system as they were.
WRITING_SQL = {
    "attach": "ATTACH DATABASE '{probe}/pwned.sqlite' AS pwned",
    "attach-in-select": "SELECT * FROM t; ATTACH DATABASE '{probe}/pwned.sqlite' AS pwned",
    "vacuum-into": "VACUUM INTO '{probe}/copy.sqlite'",
    "pragma-writable-schema": "PRAGMA writable_schema = ON",
    "pragma-journal": "PRAGMA journal_mode = DELETE",
    "pragma-user-version": "PRAGMA user_version = 7",
    "insert": "INSERT INTO t VALUES (99, 'pwned')",
    "insert-via-cte": "WITH x(a) AS (SELECT 1) INSERT INTO t SELECT a, 'pwned' FROM x",
    "update": "UPDATE t SET b = 'pwned'",
    "delete-via-cte": "WITH x AS (SELECT 1) DELETE FROM t",
    "drop": "DROP TABLE t",
    "create": "CREATE TABLE pwned (x)",
    "replace-into": "REPLACE INTO t VALUES (1, 'pwned')",
    "load-extension": "SELECT load_extension('{probe}/evil')",
    "multiple-statements": "SELECT 1; DROP TABLE t",
    "select-then-insert": "SELECT a FROM t; INSERT INTO t VALUES (98, 'pwned')",
    "nul-byte": "SELECT 1\x00; DROP TABLE t",
    "transaction": "BEGIN; DELETE FROM t; COMMIT",
    "savepoint": "SAVEPOINT s",
    "reindex": "REINDEX",
    "analyze": "ANALYZE",
}

HOSTILE_SQL = {**RUNAWAY_SQL, **WRITING_SQL}
