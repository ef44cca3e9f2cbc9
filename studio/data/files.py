"""Reading uploaded data files as a stream of raw DataFrames, with a clear error for each unreadable case.

Formats: CSV, TSV, JSON (an array of objects, or JSON Lines under a .json name), JSON Lines, Parquet.
Text is UTF-8 (a BOM is fine), UTF-16 with a BOM, or CP949/EUC-KR, the usual encoding of Korean CSVs
saved by Excel. Files are read in chunks so a large file never has to fit in memory twice.
"""

from __future__ import annotations

import codecs
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from studio.errors import StudioError

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_MAGIC = {
    b"PK\x03\x04": "a ZIP archive (an Excel .xlsx file?)",
    b"\xd0\xcf\x11\xe0": "an old Excel/Office file",
    b"%PDF": "a PDF",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"SQLite format 3\x00": "a SQLite database",
    b"PAR1": "a Parquet file",
}
_BLOCK = 1 << 20


@dataclass(frozen=True)
class ReadLimits:
    """Bounds that keep a hostile or broken file from exhausting time or memory."""

    max_file_bytes: int = 2 << 30
    max_field_chars: int = 100_000  # a longer field is dropped as "too_long" (real DDL is far shorter)
    chunk_rows: int = 20_000


DEFAULT_LIMITS = ReadLimits()


def detect_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise StudioError("unsupported file type '{suffix}': use CSV, TSV, JSON, JSONL or Parquet",
                          key="file_unsupported_type", suffix=path.suffix or path.name)
    return fmt


def sniff(path: Path, fmt: str, limits: ReadLimits) -> str:
    """Check that the file is usable text (or Parquet) and return its encoding ('' for Parquet)."""
    if not path.is_file():
        raise StudioError("no such file: {path}", key="file_not_found", path=path)
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise StudioError("the file is {size:.1f} GiB; the limit is {limit:.1f} GiB", key="file_too_large",
                          size=size / 2**30, limit=limits.max_file_bytes / 2**30)
    with path.open("rb") as f:
        head = f.read(8192)
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise StudioError("the file is empty", key="file_empty")
    if fmt == "parquet":
        if not head.startswith(b"PAR1"):
            if kind := _binary_kind(head, "{}"):
                raise StudioError("not a Parquet file (it looks like {kind})", key="file_not_parquet_but",
                                  kind=kind)
            raise StudioError("not a Parquet file", key="file_not_parquet")
        return ""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decodes(path, "utf-16") or _undecodable(path, "utf-16")
    kind = _binary_kind(head, "{}")
    if kind or b"\x00" in head:
        if kind:
            raise StudioError("the file is binary data, not {format} text: it looks like {kind}",
                              key="file_binary_kind", format=fmt.upper(), kind=kind)
        raise StudioError("the file is binary data, not {format} text", key="file_binary", format=fmt.upper())
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if _decodes(path, "utf-8"):
        return "utf-8"
    if _decodes(path, "cp949"):  # CP949 is the superset of EUC-KR that Windows and Excel write
        return "cp949"
    return _undecodable(path, "utf-8")


def _binary_kind(head: bytes, template: str) -> str:
    kind = next((name for magic, name in _MAGIC.items() if head.startswith(magic)), "")
    return template.format(kind) if kind else ""


def _decodes(path: Path, encoding: str) -> str:
    """`encoding` if the whole file decodes with it (streamed, so memory stays flat), else ''."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as f:
        try:
            while block := f.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return ""
    return encoding


def _undecodable(path: Path, encoding: str) -> str:
    offset = 0
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                offset += exc.start
                break
            offset += len(block)
    raise StudioError(
        "the file is not UTF-8 text, nor Korean CP949/EUC-KR (undecodable byte at offset {offset}); "
        "save it as UTF-8 and upload it again", key="file_undecodable", offset=offset
    )


def iter_frames(path: Path, fmt: str, encoding: str, limits: ReadLimits) -> Iterator[pd.DataFrame]:
    """The file's rows as DataFrames of strings (missing values as NA), `limits.chunk_rows` at a time."""
    if fmt in ("csv", "tsv"):
        yield from _delimited(path, "," if fmt == "csv" else "\t", encoding, limits)
    elif fmt == "jsonl":
        yield from _json_lines(path, encoding, limits)
    elif fmt == "json":
        yield from _json(path, encoding, limits)
    else:
        yield from _parquet(path, limits)


def _delimited(path: Path, sep: str, encoding: str, limits: ReadLimits) -> Iterator[pd.DataFrame]:
    kind = "TSV" if sep == "\t" else "CSV"
    try:
        # index_col=False: a first row with extra fields is an error, not silently an index column
        reader = pd.read_csv(
            path,
            sep=sep,
            encoding=encoding,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            chunksize=limits.chunk_rows,
            engine="c",
            on_bad_lines="error",
            index_col=False,
        )
        with reader:
            while True:
                with warnings.catch_warnings():
                    warnings.simplefilter("error", pd.errors.ParserWarning)
                    chunk = next(reader, None)
                if chunk is None:
                    return
                yield chunk
    except pd.errors.EmptyDataError:
        raise StudioError("the file is empty", key="file_empty") from None
    except pd.errors.ParserWarning:
        raise StudioError("the {kind} file cannot be parsed: a row has more fields than the header",
                          key="file_extra_fields", kind=kind) from None
    except (pd.errors.ParserError, ValueError) as exc:
        detail = str(exc).replace("Error tokenizing data. C error: ", "").strip()
        raise StudioError("the {kind} file cannot be parsed: {detail}", key="file_unparsable", kind=kind,
                          detail=detail) from None


def _json_lines(path: Path, encoding: str, limits: ReadLimits) -> Iterator[pd.DataFrame]:
    records: list[dict] = []
    with path.open(encoding=encoding) as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            records.append(_record(line, number))
            if len(records) >= limits.chunk_rows:
                yield _frame(records)
                records = []
    if records:
        yield _frame(records)


def _record(line: str, number: int) -> dict:
    try:
        value = json.loads(line.rstrip("\r\n"))
    except json.JSONDecodeError as exc:
        raise StudioError("line {line} is not valid JSON: {error} (column {column})", key="file_bad_json",
                          line=number, error=exc.msg, column=exc.colno) from None
    if not isinstance(value, dict):
        raise StudioError("line {line} is not a JSON object with named fields", key="file_json_not_object",
                          line=number)
    return value


def _json(path: Path, encoding: str, limits: ReadLimits) -> Iterator[pd.DataFrame]:
    with path.open(encoding=encoding) as f:
        text = f.read()
    first = text.lstrip("\ufeff \t\r\n")[:1]
    if first == "{":  # JSON Lines saved as .json, or one object wrapping the rows
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            if exc.msg != "Extra data":
                raise StudioError("line {line} is not valid JSON: {error} (column {column})",
                                  key="file_bad_json", line=exc.lineno, error=exc.msg,
                                  column=exc.colno) from None
            yield from _json_lines(path, encoding, limits)
            return
        lists = [v for v in value.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise StudioError("the JSON file must hold a list of rows (objects with named fields)",
                              key="file_json_not_list")
        rows = lists[0]
    else:
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StudioError("line {line} is not valid JSON: {error} (column {column})", key="file_bad_json",
                              line=exc.lineno, error=exc.msg, column=exc.colno) from None
    del text
    if not isinstance(rows, list):
        raise StudioError("the JSON file must hold a list of rows (objects with named fields)",
                          key="file_json_not_list")
    for start in range(0, len(rows), limits.chunk_rows):
        chunk = rows[start : start + limits.chunk_rows]
        bad = next((i for i, r in enumerate(chunk) if not isinstance(r, dict)), None)
        if bad is not None:
            raise StudioError("row {row} of the JSON list is not an object with named fields",
                              key="file_json_row_not_object", row=start + bad + 1)
        yield _frame(chunk)


def _parquet(path: Path, limits: ReadLimits) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=limits.chunk_rows):
            yield _stringify(batch.to_pandas())
    except (pa.ArrowException, OSError) as exc:
        raise StudioError("the Parquet file cannot be read: {error}", key="file_parquet_unreadable",
                          error=exc) from None


def _frame(records: list[dict]) -> pd.DataFrame:
    return _stringify(pd.DataFrame.from_records(records))


def _stringify(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as strings (numbers from JSON/Parquet too), missing values as NA."""
    out = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        column = frame[name]
        text = column.map(
            lambda v: (
                v
                if isinstance(v, str)
                else (
                    None
                    if _missing(v)
                    else json.dumps(v, ensure_ascii=False)
                    if isinstance(v, (dict, list))
                    else str(v)
                )
            )
        )
        out[str(name)] = text.astype("string")
    return out


def _missing(value) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
