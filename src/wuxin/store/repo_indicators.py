"""Repository of the indicators part: its SQL lives here."""
from __future__ import annotations

from wuxin.store.repos import _Repo


class IndicatorsRepo(_Repo):
    pass
