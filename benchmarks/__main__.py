"""`python -m benchmarks` (make bench): run every benchmarks/bench_*.py, then write the results table.

Each benchmark is a script that writes `benchmarks/results/<name>.json` holding a `table` list of rows
({"benchmark", "measure", "value", "unit", "note"}); this runner gathers them into `results/README.md`,
which the project README quotes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def main(argv: list[str]) -> int:
    wanted = set(argv)
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        if wanted and script.stem.removeprefix("bench_") not in wanted:
            continue
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode != 0:
            failed.append(script.name)
    (RESULTS / "README.md").write_text(markdown_table(), encoding="utf-8")
    print((RESULTS / "README.md").read_text(encoding="utf-8"))
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def markdown_table() -> str:
    lines = ["| benchmark | measure | value | note |", "|---|---|---|---|"]
    for path in sorted(RESULTS.glob("*.json")):
        result = json.loads(path.read_text(encoding="utf-8"))
        for row in result.get("table", []):
            value = f"{row['value']} {row.get('unit', '')}".strip()
            lines.append(f"| {row['benchmark']} | {row['measure']} | {value} | {row.get('note', '')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
