"""A run as files other engines load: a merged model folder, a GGUF file (f16 or Q8_0), an Ollama Modelfile;
and the check that an exported GGUF still answers as the run does (its held-out EX through a real server).

Everything lands in STUDIO_HOME/exports/<run>/. `python -m studio export RUN --format ...` and the Leaderboard's
run actions call `export_run`; on a shared deployment only admins may (it writes hundreds of MB).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from studio.errors import StudioError
from studio.export.files import file_written_whole, folder_built_whole
from studio.export.gguf import KINDS, write_gguf
from studio.export.merged import DTYPES, merged_model
from studio.export.ollama import modelfile
from studio.models import last_error_line, resolve_model
from studio.names import check_name, join_inside
from studio.settings import Settings, load_settings

FORMATS = ("merged", "gguf", "ollama")
Progress = Callable[[str, int, int], None]  # (stage, done, total)
CONVERTER = Path(__file__).resolve().parent.parent / "tools" / "convert_gguf.py"


@dataclass
class Export:
    run: str
    format: str
    folder: Path  # STUDIO_HOME/exports/<run>
    files: list[Path] = field(default_factory=list)  # what was written (a merged model: its folder)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"run": self.run, "format": self.format, "folder": str(self.folder),
                "seconds": round(self.seconds, 1), "files": [{"path": str(p), "bytes": _size(p)} for p in self.files]}


def export_run(run_name: str, format: str, *, gguf_type: str = "q8_0", dtype: str = "float16",
               settings: Settings | None = None, progress: Progress | None = None) -> Export:
    """Write the run as `format` (merged | gguf | ollama: a GGUF and its Modelfile) into its export folder."""
    from studio.training.runs import get_run, run_model

    settings = settings or load_settings()
    _check_choice(format, FORMATS, "format")
    _check_choice(gguf_type, tuple(KINDS), "GGUF type")
    _check_choice(dtype, DTYPES, "dtype")
    run = get_run(run_name, settings)
    folder = join_inside(settings.home / "exports", check_name(run.name, "run"))
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    base, adapter = run_model(run, settings)
    # GGUF from fp32 weights: quantizing a rounded copy would round twice.
    model = model_folder(run.name, base, adapter, "float32" if format != "merged" else dtype, settings, progress)
    if format == "merged":
        files = [_linked_copy(model, join_inside(folder, f"merged-{dtype}"))]
    else:
        gguf = join_inside(folder, check_name(run.name, "run", f".{KINDS[gguf_type]}.gguf"))
        report = (lambda done, total: progress("gguf", done, total)) if progress else None
        files = [file_written_whole(gguf, lambda path: write_gguf(model, path, gguf_type, report))]
        if format == "ollama":
            files.append(file_written_whole(folder / "Modelfile",
                                        lambda path: path.write_text(modelfile(gguf.name), encoding="utf-8")))
    return Export(run.name, format, folder, files, time.perf_counter() - started)


def gguf_folder(gguf: Path, settings: Settings | None = None) -> Path:
    """An exported GGUF read back (de-quantized) into a model folder, for engines without a GGUF loader: what
    the check serves. Made once per file, under STUDIO_HOME/cache/gguf."""
    settings = settings or load_settings()
    name = check_name(f"{gguf.stem}-{int(gguf.stat().st_mtime)}", "run")
    target = join_inside(settings.home / "cache" / "gguf", name)
    if (target / "config.json").is_file():
        return target
    return folder_built_whole(target, lambda staging: _read_back(gguf, staging))


def _read_back(gguf: Path, output: Path) -> None:
    done = subprocess.run([sys.executable, str(CONVERTER), "--gguf", str(gguf), "--output", str(output)],
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise StudioError("{file} cannot be read back: {error}", key="export_unreadable", file=gguf.name,
                          error=last_error_line(done.stderr))


def model_folder(name: str, base: str, adapter: Path | None, dtype: str, settings: Settings,
                 progress: Progress | None = None) -> Path:
    """A run's weights as one model folder: its adapter merged into its base (made once), or, for a run trained
    with merge_adapter, its own folder."""
    if adapter is None:
        return Path(base)
    if progress:
        progress("merge", 0, 1)
    model = merged_model(resolve_model(base, settings), adapter, name, settings, dtype)
    if progress:
        progress("merge", 1, 1)
    return model


def _linked_copy(source: Path, target: Path) -> Path:
    """The merged folder in the export folder, as hard links where the file system allows (no second copy)."""
    return folder_built_whole(target, lambda staging: shutil.copytree(source, staging,
                                                                      copy_function=_link_or_copy))


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _check_choice(value: str, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        raise StudioError("unknown {what} {value!r}: choose one of {choices}", key="export_bad_choice",
                          what=what, value=value, choices=", ".join(choices))


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
