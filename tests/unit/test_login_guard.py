"""The login guard's rules, on a hand-moved clock: lock after N failures, doubling, forgetting,
bounded memory, bounded concurrent password work."""

from __future__ import annotations

import threading

import pytest

from wuxin.errors import Busy, Throttled
from wuxin.security.login_guard import FailureCounter, LoginGuard, ThrottlePolicy

POLICY = ThrottlePolicy(max_failures=3, window_s=600, base_lock_s=2, max_lock_s=60)


def test_the_lock_starts_at_the_maximum_doubles_and_stops_at_the_cap():
    assert [POLICY.lock_ms(n) // 1000 for n in range(1, 10)] == [0, 0, 2, 4, 8, 16, 32, 60, 60]
    assert POLICY.lock_ms(10_000) == 60_000  # no overflow however many failures


def test_failures_are_forgotten_a_window_after_the_last_one():
    counter = FailureCounter(POLICY)
    for at_s in (0, 1):
        assert counter.record_failure("officer", at_s * 1000) is False
    assert counter.record_failure("officer", 601_500) is False  # over 600 s after the last failure: a fresh count
    assert counter.record_failure("officer", 602_000) is False
    assert counter.record_failure("officer", 603_000) is True
    assert counter.retry_after_s("officer", 603_000) == 2 and counter.retry_after_s("officer", 604_500) == 1
    assert counter.retry_after_s("officer", 605_000) == 0
    counter.reset("officer")
    assert counter.record_failure("officer", 606_000) is False


def test_memory_is_bounded_by_forgetting_the_oldest_keys():
    counter = FailureCounter(POLICY, max_keys=100)
    for n in range(1000):
        counter.record_failure(f"made-up-{n}", n)
    assert len(counter._keys) == 100 and "made-up-999" in counter._keys and "made-up-0" not in counter._keys


def test_account_names_are_compared_case_folded_and_a_success_clears_only_the_account():
    guard = LoginGuard(POLICY, ThrottlePolicy(4, 600, 2, 60), hash_slots=1, hash_wait_s=0)
    for name in ("Officer", "officer", " OFFICER"):
        guard.failed(name, "10.0.0.1", 0)
    with pytest.raises(Throttled) as locked:
        guard.check("officer", "10.0.0.2", 0)
    assert locked.value.retry_after_s == 2
    guard.succeeded("officer")
    guard.check("officer", "10.0.0.2", 0)
    guard.failed("someone", "10.0.0.1", 0)  # the address's 4th failure
    with pytest.raises(Throttled):
        guard.check("officer", "10.0.0.1", 0)


def test_no_more_verifications_run_at_once_than_there_are_slots():
    guard = LoginGuard(POLICY, POLICY, hash_slots=2, hash_wait_s=30)
    running, most, lock = [0], [0], threading.Lock()
    all_inside = threading.Barrier(2)

    def verify() -> None:
        with guard.hashing_slot():
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            all_inside.wait(timeout=30)  # two at a time meet here
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=verify) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert most[0] == 2
    guard = LoginGuard(POLICY, POLICY, hash_slots=1, hash_wait_s=0)
    with guard.hashing_slot():
        with pytest.raises(Busy) as busy:
            with guard.hashing_slot():
                pass
    assert busy.value.retry_after_s == 1 and busy.value.status_code == 503
