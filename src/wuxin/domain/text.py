"""Text that every store keeps, and values shown in messages at a bounded size.

PostgreSQL refuses NUL (U+0000) in text, and no database can encode a lone surrogate
(U+D800..U+DFFF alone) to UTF-8. Messages name the value that failed, but a 4 MB string or a
list nested a thousand deep must not become a 4 MB message or a RecursionError: `shown` cuts.
"""

from __future__ import annotations

import reprlib
from typing import Any

_SHOWN = reprlib.Repr()
_SHOWN.maxlevel = 3
_SHOWN.maxstring = 120
_SHOWN.maxother = 120
_SHOWN.maxlong = 60
_SHOWN.maxlist = _SHOWN.maxtuple = _SHOWN.maxdict = _SHOWN.maxset = 8


def shown(value: Any) -> str:
    """repr() for messages: at most a few hundred characters and 3 levels deep, always storable."""
    return storable_text(_SHOWN.repr(value))


def text_fault(text: str) -> str | None:
    """Why a database cannot keep `text` as it is, or None when it can."""
    if "\x00" in text:
        return "holds a NUL character (U+0000)"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"holds a lone surrogate U+{ord(text[exc.start]):04X} (not valid Unicode)"
    return None


def storable_text(text: str) -> str:
    """`text` with NUL and lone surrogates written as visible escapes (\\u0000, \\ud800)."""
    if "\x00" in text:
        text = text.replace("\x00", "\\u0000")
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
