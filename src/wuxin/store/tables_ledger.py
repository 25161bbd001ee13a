"""Tables of the ledger part (same metadata as tables.py; migrations under migrations/versions)."""
from __future__ import annotations

from wuxin.store.tables import metadata  # noqa: F401  (tables defined here register on it)
