"""Repository of the ledger part: its SQL lives here."""
from __future__ import annotations

from wuxin.store.repos import _Repo


class LedgerRepo(_Repo):
    pass
