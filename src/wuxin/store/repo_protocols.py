"""Repository of the protocols part: its SQL lives here."""
from __future__ import annotations

from wuxin.store.repos import _Repo


class ProtocolsRepo(_Repo):
    pass
