"""The net under validation: which errors mean "the database is away" and which "this data", and bisection."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from wuxin.domain.text import shown, storable_text, text_fault
from wuxin.errors import Unavailable
from wuxin.services.ingest.isolation import store_isolating
from wuxin.store.db import is_unavailable


class _PgError(Exception):
    def __init__(self, sqlstate: str):
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    "error, away",
    [
        (OperationalError("SELECT 1", {}, _PgError("08006")), True),  # connection failure
        (OperationalError("SELECT 1", {}, _PgError("57P01")), True),  # admin shutdown
        (OperationalError("INSERT", {}, _PgError("40P01")), True),  # deadlock: retry
        (OperationalError("INSERT", {}, Exception("database is locked")), True),  # SQLite, no sqlstate
        (OperationalError("INSERT", {}, _PgError("54000")), False),  # program limit exceeded: the data
        (DataError("INSERT", {}, _PgError("22021")), False),
        (IntegrityError("INSERT", {}, _PgError("23505")), False),
        (ConnectionRefusedError(), True),
        (Unavailable("down"), True),
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), False),
        (RecursionError(), False),
    ],
)
def test_the_database_away_is_told_from_the_data(error, away):
    assert is_unavailable(error) is away


def test_bisection_stores_all_but_the_items_that_fail_alone():
    poison = {3, 7}
    stored, quarantined, attempts = [], [], []

    def store(start, end):
        attempts.append((start, end))
        if poison & set(range(start, end)):
            raise ValueError(f"poison in {start}..{end}")
        stored.extend(range(start, end))
        return end - start

    def quarantine(index, error):
        quarantined.append((index, str(error)))
        return 0

    assert sum(store_isolating(10, store, quarantine)) == 8
    assert sorted(stored) == [0, 1, 2, 4, 5, 6, 8, 9]
    assert quarantined == [(3, "poison in 3..4"), (7, "poison in 7..8")]
    assert len(attempts) < 20


def test_a_database_away_during_bisection_raises_and_quarantines_nothing():
    calls = []

    def store(start, end):
        calls.append((start, end))
        if len(calls) == 1:
            raise ValueError("poison somewhere")
        raise OperationalError("INSERT", {}, ConnectionResetError("connection reset"))

    with pytest.raises(Unavailable, match="connection reset"):
        store_isolating(4, store, lambda index, error: pytest.fail("quarantined while the database was away"))


def test_shown_values_are_bounded_and_storable():
    assert len(shown("x" * 4_000_000)) < 200
    nested = 1
    for _ in range(5000):
        nested = [nested]
    assert len(shown(nested)) < 50  # no RecursionError
    assert shown("a\x00b\ud800") == "'a\\x00b\\ud800'"
    assert storable_text("a\x00b\ud800") == "a\\u0000b\\ud800"
    assert text_fault("cow\x007") and text_fault("\udfff") and text_fault("牛-7") is None
