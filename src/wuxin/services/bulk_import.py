"""`wuxin import FILE.jsonl`: history from files, in chunks, each chunk one transaction."""
from __future__ import annotations

import gc
import json
from contextlib import contextmanager
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import orjson

from wuxin.bootstrap import Platform
from wuxin.ingest.pipeline import Rejection, Validated, validate_lines
from wuxin.services.ingest import DeviceResolver, store_validated

CHUNK_LINES = 100_000


@dataclass
class ImportSummary:
    lines: int = 0
    readings: int = 0
    events: int = 0
    rejected: int = 0


def parse_jsonl(raw_lines: list[bytes], first_index: int, out: Validated) -> list:
    """Lines of bytes to objects; a malformed line becomes a rejection, never an abort."""
    try:  # one parser call for the whole chunk; only a chunk holding a bad line goes line by line
        return orjson.loads(b"[" + b",".join(raw_lines) + b"]")
    except orjson.JSONDecodeError:
        pass
    parsed = []
    for index, raw in enumerate(raw_lines, first_index):
        try:
            parsed.append(orjson.loads(raw))
        except orjson.JSONDecodeError:
            parsed.append(_lenient(raw, index, out))
    return parsed


def _lenient(raw: bytes, index: int, out: Validated):
    try:
        return json.loads(raw)  # NaN / Infinity: parsed here, refused point by point later
    except ValueError as exc:
        text = raw.decode("utf-8", errors="replace").strip()
        out.rejections.append(Rejection(index, None, None, "malformed_json", f"line {index + 1}: {exc}", text))
        return None


def read_chunks(path: Path, chunk_lines: int | None = None) -> Iterator[list[bytes]]:
    chunk_lines = chunk_lines or CHUNK_LINES
    chunk: list[bytes] = []
    with path.open("rb") as handle:
        for raw in handle:
            if raw.strip():
                chunk.append(raw)
            if len(chunk) >= chunk_lines:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def import_lines_chunked(platform: Platform, chunks: Iterable[list], channel: str = "bulk",
                         progress: Callable[[int], None] | None = None) -> ImportSummary:
    """Validate and store chunk by chunk, each chunk one transaction.

    A chunk is a list of raw JSON lines (bytes) or of already parsed line objects. The
    database writes of one chunk run in a writer thread while the next chunk is parsed and
    validated (both SQLite and psycopg release the GIL while the database works).
    """
    summary = ImportSummary()
    max_future_ms = platform.settings.max_future_skew_s * 1000
    with _gc_paused(), platform.uow() as reader, platform.uow() as writer, ThreadPoolExecutor(1, "wuxin-writer") as pool:
        resolver = DeviceResolver(platform, reader)
        pending = None
        for chunk in chunks:
            validated = Validated()
            objects = parse_jsonl(chunk, summary.lines, validated) if chunk and isinstance(chunk[0], bytes) else chunk
            validate_lines(objects, resolver, platform.clock_ms(), max_future_ms, validated, summary.lines)
            summary.lines += len(chunk)
            _collect(summary, pending, progress)
            pending = pool.submit(_write_chunk, platform, writer, validated, channel, len(chunk))
            if not platform.engine.dialect.name == "postgresql":
                _collect(summary, pending, progress)  # SQLite writes in-process: overlap only fights for the GIL
                pending = None
        _collect(summary, pending, progress)
    return summary


@contextmanager
def _gc_paused():
    """Millions of small acyclic dicts make the cyclic collector run constantly (3-4x slower
    parsing); reference counting frees them anyway, so pause it for the import."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _write_chunk(platform: Platform, uow, validated: Validated, channel: str, lines: int):
    result = store_validated(platform, uow, validated, channel, None, None)
    uow.commit()
    return result, lines


def _collect(summary: ImportSummary, pending: Future | None, progress: Callable[[int], None] | None) -> None:
    if pending is None:
        return
    result, lines = pending.result()
    summary.readings += result.accepted
    summary.events += result.events
    summary.rejected += len(result.rejections)
    if progress:
        progress(lines)


def import_file(platform: Platform, path: Path, progress: Callable[[int], None] | None = None) -> ImportSummary:
    return import_lines_chunked(platform, read_chunks(path), "bulk", progress)


def chunked(objects: Iterable, size: int | None = None) -> Iterator[list]:
    size = size or CHUNK_LINES
    chunk = []
    for item in objects:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
