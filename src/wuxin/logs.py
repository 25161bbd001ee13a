"""Structured logs: JSON lines on stderr (key=value on a terminal), with secrets redacted.

Device tokens travel in URLs (ThingsBoard's `POST /api/v1/{token}/telemetry`), so an access log
line would otherwise hold a credential. `install_redaction` replaces the log record factory of the
process: every record of every logger (uvicorn's access and error logs, httpx, ours) has its
message, arguments and traceback text redacted when it is made, whatever handlers or formatters
write it out later.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback

import structlog
from structlog.typing import Processor

REDACTED = "***"
_PATTERNS = [
    # the token segment of ThingsBoard's device API paths, /api/v1/<token>/telemetry ...: 16+ characters
    # (our tokens have 47), so that our own short route names (/api/v1/ledger/telemetry/...) are kept
    (
        re.compile(r"(/api/v1/)[^/?#\s\"']{16,}(?=/(?:telemetry|attributes|rpc|claim|firmware|software))"),
        r"\1" + REDACTED,
    ),
    # our tokens wherever they appear: wxd_ device, wxu_ user, wxp_ platform, whsec webhook
    (re.compile(r"\b(wx[a-z]_|whsec)[A-Za-z0-9_-]{16,}"), r"\1" + REDACTED),
    # credentials in query strings and headers
    (re.compile(r"(?i)\b((?:access_?token|token|secret|password)=)[^&\s\"'#]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+"), r"\1" + REDACTED),
]


def redact(text: str) -> str:
    """`text` with device tokens, bearer tokens and credential query parameters replaced by ***."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, (int, float)):
        return value  # kept as is: %d and %f need numbers
    text = str(value)  # a URL object, an exception ...: as text only when it held a secret
    cleaned = redact(text)
    return value if cleaned == text else cleaned


def redact_record(record: logging.LogRecord) -> None:
    """Redact a record in place: message, arguments (tuple or mapping) and exception text."""
    if isinstance(record.msg, dict):  # structlog's event dicts
        record.msg = {key: _redact_value(value) for key, value in record.msg.items()}
    else:
        record.msg = _redact_value(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_value(arg) for arg in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _redact_value(value) for key, value in record.args.items()}
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        cleaned = redact(text)
        if cleaned != text:  # formatters print exc_text; the ones that re-format exc_info get the redacted text
            record.exc_text = cleaned
            record.exc_info = (_RedactedException, _RedactedException(cleaned), None)


class _RedactedException(Exception):
    """Stands for a logged exception whose text was redacted (formatters that re-format exc_info
    print this text, not the original)."""


def install_redaction() -> None:
    """Redact every log record made in this process from now on; calling it again changes nothing."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "wuxin_redacts", False):
        return

    def redacting_factory(*args, **kwargs) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        redact_record(record)
        return record

    redacting_factory.wuxin_redacts = True  # type: ignore[attr-defined]  # marks the factory as already installed
    logging.setLogRecordFactory(redacting_factory)


def configure_logging(level: str = "INFO") -> None:
    install_redaction()
    terminal = sys.stderr.isatty()
    renderer = structlog.dev.ConsoleRenderer() if terminal else structlog.processors.JSONRenderer()
    # JSON lines get the traceback as text in "exception" (the console renderer prints exc_info itself)
    tracebacks = [] if terminal else [structlog.processors.format_exc_info]
    processors: list[Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=processors,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tracebacks, renderer],
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    structlog.configure(
        processors=[*processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
    )
