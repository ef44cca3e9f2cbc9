"""Scoring library for Text2SQL predictions: extraction, execution match and an LLM judge.

Usable without the app (`python -m evaluation score ...`); imports nothing from `studio`.
Importing the package imports nothing else, so `evaluation.sql` stays light for the app's start-up.

    sql         extract_sql, normalize_sql, parse_error, transpile
    sandbox     read-only, time- and row-limited SQLite execution of untrusted SQL
    compare     result comparison (bags, order, column permutations, floats, NULLs)
    schema      an empty SQLite schema from (MySQL) DDL; DDL text from a database
    execution   execution_match, ExecutionMatcher, check_against_ddl, find_databases
    judge       Judge, JudgeConfig, JudgeItem (OpenAI-compatible; cache, retries, limits, cost, Batch API)
    scoring     score_pairs (modes execution | judge | hybrid | both), plan_scoring, summarize
    pairs       JSONL input and output of the CLI
    testing     an OpenAI stand-in server and a sample game database, for tests and benchmarks
"""
