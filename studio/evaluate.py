"""Evaluation runs: generate answers for an evaluation set, score them, store them for the leaderboard.

A candidate is a run (base model + its LoRA adapter) or a base model alone. Its answers are generated with
the shared batched engine and remembered in the registry (`generations`), so re-scoring with another mode,
judge or template never regenerates. Scoring is the evaluation library's (execution, judge, hybrid, both).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pandas as pd

from evaluation.judge import Judge, JudgeConfig
from evaluation.pairs import Pair
from evaluation.sql import extract_sql
from evaluation.scoring import ScoringConfig, Summary, finish_scoring, plan_scoring
from studio import registry
from studio.candidates import base_label, hub_label
from studio.errors import StudioError
from studio.inference import GenerationOptions, LoadOptions, Sampling, get_generator
from studio.models import resolve_model
from studio.prompts import BOOK_TEMPLATE, PromptTemplate
from studio.retrieval import add_examples, prompt_questions, run_index
from studio.selection import select_answers
from studio.server_engine import ServerConfig, ServerEngine
from studio.settings import Settings, load_settings
from studio.sql_grammar import GRAMMAR_REVISION

Progress = Callable[[str, int, int], None]  # (stage, done, total)
MODES = ("execution", "judge", "hybrid", "both")
MAX_CANDIDATES = 16  # execution-guided selection: each candidate costs about one more generation of the set


@dataclass(frozen=True)
class Candidate:
    """What is evaluated: a run's adapter on its base model, or a base model alone."""

    label: str  # the run name, "base:<model>", "hub:<owner/name>@<commit>", or "server:<model>"
    base_model: str
    adapter: Path | None = None
    run_name: str | None = None
    server: ServerConfig | None = None  # answers come from OpenAI-compatible servers, not the built-in engine


def base_candidate(model: str) -> Candidate:
    return Candidate(label=base_label(model), base_model=model)


def run_candidate(run_name: str, settings: Settings | None = None) -> Candidate:
    from studio.training.runs import get_run, run_model

    run = get_run(run_name, settings)
    base_model, adapter = run_model(run, settings)  # here, or its pushed Hub copy (imported from elsewhere)
    return Candidate(label=run.name, base_model=base_model, adapter=adapter, run_name=run.name)


def server_candidate(config: ServerConfig) -> Candidate:
    """A model served by OpenAI-compatible servers (studio.server_engine), named by its model id."""
    return Candidate(label=config.label, base_model=config.model, server=config)


def hub_candidate(repo_id: str, settings: Settings | None = None) -> Candidate:
    """A LoRA adapter on the Hub (on the base model it names), or a merged model there, downloaded once into
    STUDIO_HOME's cache. The label names the commit: answers remembered for an older push of the same repo are
    never reused for a newer one."""
    from studio.models import HUB_ID, adapter_base_model, download_from_hub

    repo_id = (repo_id or "").strip()
    if not HUB_ID.match(repo_id):
        raise StudioError("{repo!r} is not a Hub repo id: give owner/name", key="eval_bad_hub_id",
                          repo=repo_id)
    folder = download_from_hub(repo_id, settings or load_settings())
    label = hub_label(repo_id, folder.name)  # the snapshot folder is named by the commit
    if (folder / "adapter_config.json").is_file():
        base = adapter_base_model(folder)
        if not base:
            raise StudioError("the adapter {repo} names no base model (base_model_name_or_path)",
                              key="eval_hub_no_base", repo=repo_id)
        return Candidate(label=label, base_model=base, adapter=folder)
    if (folder / "config.json").is_file():
        return Candidate(label=label, base_model=str(folder))
    raise StudioError("{repo} holds neither a LoRA adapter nor a model", key="eval_hub_no_weights",
                      repo=repo_id)


@dataclass(frozen=True)
class EvalSet:
    """Rows to answer (`id, db_id, context, question, answer`) and, if any, their databases."""

    label: str
    rows: pd.DataFrame
    db_dir: Path | None
    template: str = BOOK_TEMPLATE
    dataset_version: str | None = None


def eval_set_from_version(version_id: str, settings: Settings | None = None) -> EvalSet:
    """The held-out split of a prepared data set version."""
    from studio.data.versions import get_version

    version = get_version(version_id, settings)
    rows = version.eval_frame()
    if rows.empty:
        raise StudioError("data set {version} has no held-out rows to evaluate on", key="eval_no_holdout",
                          version=version_id)
    db_dir = version.databases_dir if version.databases_dir.is_dir() else None
    return EvalSet(label=version_id, rows=rows, db_dir=db_dir, template=version.prompt_template,
                   dataset_version=version_id)


def eval_set_from_file(path: Path, db_dir: Path | None = None) -> EvalSet:
    """An uploaded file (CSV/JSONL/…, validated like any data source); DDL-only unless `db_dir` is given."""
    from studio.data.validation import read_file

    rows, report = read_file(Path(path))
    if rows.empty:
        raise StudioError("{file} has no usable rows ({dropped} dropped)", key="eval_file_no_rows",
                          file=Path(path).name, dropped=report.dropped)
    if "id" not in rows.columns:
        rows = rows.assign(id=[str(i) for i in range(len(rows))])
    return EvalSet(label=Path(path).name, rows=rows, db_dir=db_dir)


@dataclass(frozen=True)
class EvalOptions:
    mode: str = "hybrid"
    max_new_tokens: int = 128
    # Prompts generated together, within a budget of prompt + answer tokens that bounds memory for long DDL
    # (48 game-domain prompts take ~1.8 GB on CPU). More rows at once is faster on a CPU too: 48 evaluation
    # prompts in one batch run ~1.6x faster than in batches of 8 (benchmarks/bench_generation.py).
    batch_size: int = 48
    max_batch_tokens: int = 24576
    limit: int | None = None  # evaluate only the first N rows (quick looks)
    judge_model: str | None = None
    judge_base_url: str | None = None
    # Answers within the SQL grammar of each row's DDL (studio/constraints.py); False: free decoding.
    constrained: bool = True
    # Execution-guided selection (studio/selection.py): each row's answer is chosen among this many candidates,
    # the greedy answer and candidates - 1 drawn at `temperature` (seeded by `seed` and the prompt, so a re-run
    # draws the same ones). 1: the greedy answer alone.
    candidates: int = 1
    temperature: float = 0.7
    seed: int = 0
    # The server API that answered (completions | chat), set by `evaluate` for a server candidate: its
    # answers are a decoding of their own ("server-completions"), greedy and unconstrained.
    served_by: str = ""

    @property
    def grammar(self) -> str:
        if self.served_by:
            return f"server-{self.served_by}"
        return "schema" if self.constrained else "free"

    @property
    def decoding(self) -> str:
        """How the answers were decoded, a leaderboard row of its own: free | schema, then +select<N> with
        selection (and @t<temperature>s<seed> when those are not the defaults)."""
        if self.candidates == 1:
            return self.grammar
        default = (self.temperature, self.seed) == (EvalOptions.temperature, EvalOptions.seed)
        return f"{self.grammar}+select{self.candidates}{'' if default else self._sampling_tag}"

    @property
    def generation_keys(self) -> list[str]:
        """The generations cache's decoding key of each candidate: the greedy answer is the one evaluations
        without selection store; the k-th sampled one depends on k, the temperature and the seed only, so
        select3 reuses what select5 drew and the other way round."""
        return [self.generated_by] + [f"{self.generated_by}+sample{k}{self._sampling_tag}"
                                      for k in range(1, self.candidates)]

    @property
    def generated_by(self) -> str:
        """The grammar as the generations cache (and the stored options) know it: with the schema grammar's
        revision, so that answers decoded under an older grammar are not reused as today's."""
        return f"{self.grammar}@{GRAMMAR_REVISION}" if self.grammar == "schema" else self.grammar

    @property
    def _sampling_tag(self) -> str:
        return f"@t{self.temperature:g}s{self.seed}"

    def __post_init__(self):
        if self.mode not in MODES:
            raise StudioError("unknown scoring mode {mode!r}: choose one of {known}", key="eval_unknown_mode",
                              mode=self.mode, known=", ".join(MODES))
        if self.mode in ("judge", "both") and not self.judge_model:
            raise StudioError("mode {mode!r} needs a judge model", key="eval_mode_needs_judge",
                              mode=self.mode)
        if self.limit is not None and self.limit < 1:
            raise StudioError("limit must be at least 1", key="eval_bad_limit")
        if not 1 <= self.candidates <= MAX_CANDIDATES:
            raise StudioError("candidates must be between 1 and {most}", key="eval_bad_candidates",
                              most=MAX_CANDIDATES)
        Sampling(self.seed, self.temperature)  # checks the temperature


@dataclass
class EvaluationResult:
    id: int
    candidate: Candidate
    eval_set: str
    summary: Summary
    generate_seconds: float
    new_generations: int  # answers the model generated now; the rest came from earlier evaluations
    rows: list[dict] = field(default_factory=list)
    # The database these rows ask about that the run was trained on synthesized pairs for (`data synthesize`):
    # an in-domain score, kept apart from held-out ones on the leaderboard. None: not adapted to it.
    adapted_to: str | None = None
    decoding: str = "free"  # how the answers were decoded (EvalOptions.decoding): schema, server-completions, …


def open_judge(options: EvalOptions, settings: Settings, api_key: str | None = None,
               template: str | None = None) -> Judge | None:
    """The judge for these options (None when no judge model is set); the key never leaves memory."""
    if not options.judge_model:
        return None
    key = api_key or (settings.openai_api_key.reveal() if settings.openai_api_key else None)
    config = JudgeConfig(model=options.judge_model, base_url=options.judge_base_url or settings.openai_base_url,
                         cache_path=settings.home / "cache" / "judge.sqlite", **({"template": template} if template else {}))
    try:
        return Judge(config, api_key=key)
    except ValueError as exc:
        raise StudioError("{error}", key="eval_judge_config", error=exc) from None


def evaluate(candidate: Candidate, eval_set: EvalSet, options: EvalOptions = EvalOptions(),
             judge: Judge | None = None, progress: Progress | None = None,
             settings: Settings | None = None) -> EvaluationResult:
    """Generate (or reuse) the candidate's answers, score them, store the evaluation; return it."""
    settings = settings or load_settings()
    rows = eval_set.rows.head(options.limit) if options.limit else eval_set.rows
    engine = ServerEngine(candidate.server) if candidate.server else None
    if engine is not None:  # greedy through the server: no grammar, no sampled candidates
        options = replace(options, constrained=False, candidates=1, served_by=engine.resolve_api())
    started = time.perf_counter()
    candidates, new_generations = generate_answers(candidate, rows, eval_set.template, options, progress, settings,
                                                   engine)
    answers = _chosen(candidates, rows, eval_set.db_dir, progress)
    generate_seconds = time.perf_counter() - started  # selection included: it is part of what the answers cost
    completions = [text for text, _, _ in answers]
    pairs = [_pair(row, completion) for row, completion in zip(rows.to_dict("records"), completions)]
    plan = plan_scoring(pairs, db_dir=eval_set.db_dir, config=ScoringConfig(mode=options.mode))
    if plan.judge_items and judge is None and options.mode in ("judge", "both"):
        raise StudioError("this evaluation needs a judge: set a judge model and an API key",
                          key="eval_needs_judge")
    report = finish_scoring(plan, judge, progress=progress)
    scored = [dict(s.to_row(), completion=text, reason=_with_notes(s.reason, problem, note))
              for s, (text, problem, note) in zip(report.rows, answers)]
    adapted = adapted_to(candidate.run_name, set(rows["db_id"].astype(str)), settings)
    evaluation_id = _store(candidate, eval_set, options, report.summary, scored, generate_seconds, settings,
                           adapted)
    return EvaluationResult(evaluation_id, candidate, eval_set.label, report.summary, generate_seconds,
                            new_generations, scored, adapted, options.decoding)


def adapted_to(run_name: str | None, db_ids: set[str], settings: Settings) -> str | None:
    """The database among `db_ids` whose synthesized pairs the run was trained on, if any."""
    from studio.data.versions import find_version
    from studio.training.runs import find_run

    run = find_run(run_name, settings) if run_name else None
    version = find_version(run.dataset_version, settings) if run and run.dataset_version else None
    if version is None or version.source.get("kind") != "synthesized":
        return None
    return version.source.get("ref") if version.source.get("ref") in db_ids else None


def _chosen(candidates: list[list[tuple[str, str]]], rows: pd.DataFrame, db_dir: Path | None,
            progress: Progress | None) -> list[tuple[str, str, str]]:
    """(completion, generation problem, selection note) per row: its only answer, or the one selection keeps."""
    if all(len(answers) == 1 for answers in candidates):
        return [(*answers[0], "") for answers in candidates]
    report = (lambda done, total: progress("select", done, total)) if progress else None
    picks = select_answers([[text for text, _ in answers] for answers in candidates], rows.to_dict("records"),
                           db_dir, report)
    return [(*answers[pick.index], pick.note) for answers, pick in zip(candidates, picks)]


def _with_notes(reason: str, problem: str, selection: str) -> str:
    """A scoring reason, with why generation ended early when it did (a constrained answer cut short) and
    which candidate selection kept."""
    return "; ".join([reason] + ([f"generation: {problem}"] if problem else []) + ([selection] if selection else []))


def _pair(row: dict, completion: str) -> Pair:
    return Pair(id=str(row["id"]), db_id=str(row["db_id"]), question=row["question"], gold_sql=row["answer"],
                pred_sql=completion, context=row.get("context"), row={})


def candidate_prompts(candidate: Candidate, rows: pd.DataFrame, template: str, settings: Settings) -> list[str]:
    """Each row's prompt: with the row's example when the set has them (a version prepared with examples);
    else with one from the run's own training rows when the run was trained on prompts with examples."""
    if "example_question" not in rows and "db_id" in rows:
        index = run_index(candidate.run_name, settings)
        rows = add_examples(rows, index) if index is not None else rows
    render = PromptTemplate(template).render
    return [render(c, q) for c, q in zip(rows["context"], prompt_questions(rows))]


def generate_answers(candidate: Candidate, rows: pd.DataFrame, template: str, options: EvalOptions,
                     progress: Progress | None, settings: Settings,
                     engine: ServerEngine | None = None) -> tuple[list[list[tuple[str, str]]], int]:
    """Every row's candidate answers, (completion, generation problem) each: the greedy one, then the sampled
    ones (`options.candidates` in all; from the registry when this candidate already answered that prompt
    the same way), and how many answers were generated now."""
    prompts = candidate_prompts(candidate, rows, template, settings)
    ddl_of = dict(zip(prompts, rows["context"]))
    keys = options.generation_keys
    with registry.session(settings.registry_path) as db:
        known = {key: _cached_generations(db, candidate, prompts, options.max_new_tokens, key) for key in keys}
        missing = [(prompt, key) for key in keys for prompt in dict.fromkeys(prompts) if prompt not in known[key]]
        if missing:
            answers = (_generate_served(engine, missing, options, progress) if engine is not None
                       else _generate(candidate, missing, ddl_of, options, progress, settings))
            for (prompt, key), answer in zip(missing, answers):
                known[key][prompt] = answer
            _remember(db, candidate, [(prompt, key, known[key][prompt]) for prompt, key in missing],
                      options.max_new_tokens)
    if progress:
        progress("generate", len(prompts), len(prompts))
    return [[known[key][p] for key in keys] for p in prompts], len(missing)


def _generate(candidate: Candidate, missing: Sequence[tuple[str, str]], ddl_of: dict[str, str],
              options: EvalOptions, progress: Progress | None, settings: Settings) -> list[tuple[str, str]]:
    """(completion, problem) for each (prompt, generations key): greedy for the first key, sampled for the
    others, all in one run of the engine (a prompt's shared prefix computed once for all its candidates)."""
    generator = get_generator(resolve_model(candidate.base_model, settings), LoadOptions(adapter=candidate.adapter))
    report = (lambda done, total: progress("generate", done, total)) if progress else None
    gen = GenerationOptions(max_new_tokens=options.max_new_tokens, batch_size=options.batch_size,
                            max_batch_tokens=options.max_batch_tokens, constrained=options.constrained)
    prompts = [prompt for prompt, _ in missing]
    sampling = [None if key == options.generated_by else Sampling(_sample_seed(key, prompt), options.temperature)
                for prompt, key in missing]
    completions = generator.generate(prompts, gen, progress=report, ddls=[ddl_of[p] for p in prompts],
                                     sampling=sampling)
    return [(c.text, c.problem) for c in completions]


def _generate_served(engine: ServerEngine, missing: Sequence[tuple[str, str]], options: EvalOptions,
                     progress: Progress | None) -> list[tuple[str, str]]:
    report = (lambda done, total: progress("generate", done, total)) if progress else None
    served = engine.generate([prompt for prompt, _ in missing], options.max_new_tokens, report)
    return [(c.text, "") for c in served.completions]


def _sample_seed(key: str, prompt: str) -> int:
    """A sampled candidate's seed, from its generations key (index, temperature, seed) and its prompt: the
    same candidate whichever rows are evaluated with it."""
    return int.from_bytes(hashlib.sha256(f"{key}\n{prompt}".encode("utf-8")).digest()[:8], "big") >> 1


def _prompt_key(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


def _cached_generations(db, candidate: Candidate, prompts: Sequence[str], max_new_tokens: int,
                        decoding: str) -> dict[str, tuple[str, str]]:
    """Earlier answers to these prompts decoded the same way, with why each ended early (if it did)."""
    by_key = {_prompt_key(p): p for p in prompts}
    found = {}
    for row in db.execute("SELECT prompt_sha, completion, problem FROM generations WHERE candidate = ? "
                          "AND max_new_tokens = ?"
                          " AND decoding = ?", (candidate.label, max_new_tokens, decoding)):
        if row["prompt_sha"] in by_key:
            found[by_key[row["prompt_sha"]]] = (row["completion"], row["problem"])
    return found


def _remember(db, candidate: Candidate, answers: Sequence[tuple[str, str, tuple[str, str]]],
              max_new_tokens: int) -> None:
    """Store (prompt, generations key, (completion, problem)) answers."""
    with registry.transaction(db):
        db.executemany(
            "INSERT OR REPLACE INTO generations (candidate, prompt_sha, max_new_tokens, decoding, completion,"
            " problem, created_at) VALUES (?, ?, ?, ?, ?, ?, datetime('now'))",
            [(candidate.label, _prompt_key(p), max_new_tokens, key, *answer) for p, key, answer in answers],
        )


def _store(candidate: Candidate, eval_set: EvalSet, options: EvalOptions, summary: Summary, rows: list[dict],
           generate_seconds: float, settings: Settings, adapted: str | None = None) -> int:
    # One transaction: the evaluation and its rows land together, or neither does.
    with registry.session(settings.registry_path, begin="DEFERRED") as db:
        cursor = db.execute(
            """INSERT INTO evaluations (created_at, candidate, run_name, base_model, adapter, eval_set,
                   dataset_version, mode, judge_model, options, summary, rows, accuracy, ex_score,
                   judge_score, agreement, cost_usd, generate_seconds, decoding)
               VALUES (datetime('now'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (candidate.label, candidate.run_name, candidate.base_model,
             str(candidate.adapter) if candidate.adapter else None, eval_set.label, eval_set.dataset_version,
             options.mode, options.judge_model, json.dumps({**asdict(options), "generated_by": options.generated_by}),
             json.dumps({**summary.to_dict(), "adapted_to": adapted}),
             summary.total, summary.accuracy, summary.ex_score, summary.judge_score,
             summary.agreement.rate if summary.agreement else None, summary.cost_usd, generate_seconds,
             options.decoding),
        )
        evaluation_id = cursor.lastrowid
        db.executemany(
            """INSERT INTO evaluation_rows (evaluation_id, row_index, row_id, db_id, question, gold_sql,
                   completion, pred_sql, match, reason, decided_by, judge_verdict)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(evaluation_id, i, str(r["id"]), r["db_id"], r["question"], r["gold_sql"], r["completion"],
              extract_sql(r["completion"]), int(bool(r["match"])), r["reason"], r["decided_by"], r["judge"])
             for i, r in enumerate(rows)],
        )
    return evaluation_id


def estimate_judge_cost(eval_set: EvalSet, options: EvalOptions, judge: Judge) -> dict:
    """Before generating: what judging every row would cost at most (hybrid usually asks far fewer)."""
    from evaluation.judge import JudgeItem

    rows = eval_set.rows.head(options.limit) if options.limit else eval_set.rows
    items = [JudgeItem(r["context"], r["question"], r["answer"], r["answer"]) for r in rows.to_dict("records")]
    return judge.estimate(items).to_dict()


def list_evaluations(settings: Settings | None = None, limit: int = 1000) -> pd.DataFrame:
    """Stored evaluations, newest first: one row each with its scores."""
    with registry.session((settings or load_settings()).registry_path) as db:
        return pd.read_sql_query(
            """SELECT id, created_at, candidate, run_name, base_model, eval_set, mode, decoding, judge_model,
                      rows, accuracy, ex_score, judge_score, agreement, cost_usd, generate_seconds
               FROM evaluations ORDER BY id DESC LIMIT ?""", db, params=(limit,))


def evaluation_rows(evaluation_ids: Sequence[int], settings: Settings | None = None) -> pd.DataFrame:
    """The stored rows of some evaluations, with the candidate each belongs to."""
    marks = ",".join("?" * len(evaluation_ids))
    with registry.session((settings or load_settings()).registry_path) as db:
        return pd.read_sql_query(
            f"""SELECT e.candidate, r.* FROM evaluation_rows r JOIN evaluations e ON e.id = r.evaluation_id
                WHERE r.evaluation_id IN ({marks}) ORDER BY r.row_index, e.id""", db, params=list(evaluation_ids))


ROW_FILTERS = ("all", "failures", "disagreements", "differences")


def filter_rows(rows: pd.DataFrame, kind: str = "all") -> pd.DataFrame:
    """Rows of `evaluation_rows(...)` narrowed for review.

    failures: the answer did not match; disagreements: execution and the judge disagree (both gave a verdict);
    differences: questions where the candidates' verdicts are not all the same (base vs fine-tuned).
    """
    if kind == "failures":
        return rows[rows["match"] == 0]
    if kind == "disagreements":
        judged = rows[rows["judge_verdict"].isin(["yes", "no"]) & (rows["decided_by"] != "none")]
        # The reason starts with execution's verdict; notes (generation, selection) follow a "; ".
        execution_yes = judged["reason"].str.split("; ").str[0].eq("match")
        return judged[execution_yes != judged["judge_verdict"].eq("yes")]
    if kind == "differences":
        spread = rows.groupby("row_index")["match"].transform("nunique")
        return rows[spread > 1]
    return rows


def side_by_side(rows: pd.DataFrame) -> pd.DataFrame:
    """One line per question, each candidate's SQL and verdict in its own columns."""
    if rows.empty:
        return pd.DataFrame(columns=["question", "gold_sql"])
    rows = rows.assign(verdict=rows["match"].map({1: "✅", 0: "❌"}) + " " + rows["reason"].fillna(""))
    wide = rows.pivot_table(index=["row_index", "question", "gold_sql"], columns="candidate",
                            values=["pred_sql", "verdict"], aggfunc="first")
    wide.columns = [f"{candidate} · {field}" for field, candidate in wide.columns]
    ordered = sorted(wide.columns, key=lambda c: (c.split(" · ")[0], c.split(" · ")[1] != "pred_sql"))
    return wide[ordered].reset_index().drop(columns="row_index")


def latest_summary(run_name: str, settings: Settings | None = None) -> dict | None:
    """The summary of a run's most recent evaluation (for its model card), or None."""
    with registry.session((settings or load_settings()).registry_path) as db:
        # By when it was made: an evaluation imported from the results mirror gets a higher id than newer ones.
        row = db.execute("SELECT summary, eval_set FROM evaluations WHERE run_name = ? "
                         "ORDER BY created_at DESC, id DESC LIMIT 1", (run_name,)).fetchone()
    return {**json.loads(row["summary"]), "eval_set": row["eval_set"]} if row else None
