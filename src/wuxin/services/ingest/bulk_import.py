"""`wuxin import FILE.jsonl`: history from files, in chunks, each chunk one transaction."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

from wuxin.bootstrap import Platform
from wuxin.ingest.parse import PayloadError, lenient_loads
from wuxin.ingest.pipeline import Rejection, Validated, validate_lines
from wuxin.services.ingest.isolation import store_isolating
from wuxin.services.ingest.telemetry import (
    DeviceResolver,
    IngestResult,
    merge_results,
    quarantine_unstorable,
    store_validated,
)
from wuxin.store.db import is_unavailable

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
        return lenient_loads(raw)  # NaN / Infinity: parsed here, refused point by point later
    except PayloadError as exc:
        text = raw.decode("utf-8", errors="replace").strip()
        out.rejections.append(Rejection(index, None, None, exc.reason, f"line {index + 1}: {exc}", text))
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


def import_lines_chunked(
    platform: Platform, chunks: Iterable[list], channel: str = "bulk", progress: Callable[[int], None] | None = None
) -> ImportSummary:
    """Validate and store chunk by chunk, each chunk one transaction.

    A chunk is a list of raw JSON lines (bytes) or of already parsed line objects. The
    database writes of one chunk run in a writer thread while the next chunk is parsed and
    validated (both SQLite and psycopg release the GIL while the database works). A chunk that
    fails on its data (the database answers) is stored again in parts: only the lines that fail
    alone are quarantined (store_failed); a database that is down stops the import.
    """
    summary = ImportSummary()
    with (
        _gc_paused(),
        platform.uow() as reader,
        platform.uow() as writer,
        ThreadPoolExecutor(1, "wuxin-writer") as pool,
    ):
        chunk_import = _ChunkImport(platform, reader, writer, channel)
        pending = None
        for chunk in chunks:
            validated = chunk_import.validate(chunk, summary.lines)
            first_index, summary.lines = summary.lines, summary.lines + len(chunk)
            _collect(summary, pending, progress)
            if validated is None:  # validating this chunk failed on something in it: line by line
                pending = None
                _add(summary, chunk_import.isolated(chunk, first_index), len(chunk), progress)
                continue
            pending = (pool.submit(chunk_import.write, validated), chunk_import, chunk, first_index)
            if not platform.engine.dialect.name == "postgresql":
                _collect(summary, pending, progress)  # SQLite writes in-process: overlap only fights for the GIL
                pending = None
        _collect(summary, pending, progress)
    return summary


class _ChunkImport:
    def __init__(self, platform: Platform, reader, writer, channel: str):
        self.platform, self.reader, self.writer, self.channel = platform, reader, writer, channel
        self.resolver = DeviceResolver(platform, reader)
        self.max_future_ms = platform.settings.max_future_skew_s * 1000

    def validate(self, chunk: list, first_index: int) -> Validated | None:
        """The chunk's points and rejections; None when something in it made validation itself fail."""
        validated = Validated()
        try:
            objects = parse_jsonl(chunk, first_index, validated) if chunk and isinstance(chunk[0], bytes) else chunk
            return validate_lines(
                objects, self.resolver, self.platform.clock_ms(), self.max_future_ms, validated, first_index
            )
        except Exception as exc:
            if is_unavailable(exc):
                raise
            self.reader.rollback()  # a failed lookup leaves PostgreSQL's transaction unusable
            return None

    def write(self, validated: Validated) -> IngestResult:
        result = store_validated(self.platform, self.writer, validated, self.channel, None, None)
        self.writer.commit()
        return result

    def isolated(self, chunk: list, first_index: int) -> IngestResult:
        """Store the chunk in parts, each its own transaction; quarantine the lines that fail alone."""

        def store_range(start: int, end: int) -> IngestResult:
            validated = self.validate(chunk[start:end], first_index + start)
            if validated is None:
                raise ValueError(f"lines {first_index + start + 1}..{first_index + end} could not be validated")
            with self.platform.uow() as uow:
                result = store_validated(self.platform, uow, validated, self.channel, None, None)
                uow.commit()
            return result

        def quarantine_line(index: int, error: Exception) -> IngestResult:
            line = chunk[index]
            message = quarantine_unstorable(
                self.platform, self.channel, line, error, None, f"line {first_index + index + 1}"
            )
            return IngestResult(
                None, rejections=[Rejection(first_index + index, None, None, "store_failed", message, line)]
            )

        return merge_results(store_isolating(len(chunk), store_range, quarantine_line))


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


def _collect(summary: ImportSummary, pending: tuple | None, progress: Callable[[int], None] | None) -> None:
    if pending is None:
        return
    future, chunk_import, chunk, first_index = pending
    try:
        result = future.result()
    except Exception as exc:
        if is_unavailable(exc):
            raise
        chunk_import.writer.rollback()
        result = chunk_import.isolated(chunk, first_index)
    _add(summary, result, len(chunk), progress)


def _add(summary: ImportSummary, result: IngestResult, lines: int, progress: Callable[[int], None] | None) -> None:
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
