"""Login throttling: exponential lock per account and per source address, and a bound on the
number of password verifications (Argon2) running at once.

The state lives in this process's memory. A login flood is answered from here without touching
the database or hashing anything, which is the point; the price is that each server process
counts on its own (N processes allow N times the attempts before locking) and a restart forgets
the counts. Both are bounded: the lock doubles with each failure, so a few processes or restarts
change little. The number of keys kept is capped, so a flood of made-up usernames cannot grow
memory without limit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from wuxin.errors import Busy, Throttled

THROTTLED_MESSAGE = "too many failed logins for this account or from this address; retry in {s} s"
MAX_KEYS = 100_000  # accounts + sources remembered per process (~100 bytes each)


@dataclass(frozen=True)
class ThrottlePolicy:
    """`max_failures` within `window_s` lock the key for `base_lock_s`, doubled by each further failure."""

    max_failures: int
    window_s: int  # a key forgets its failures this long after the last one
    base_lock_s: int
    max_lock_s: int

    def lock_ms(self, failures: int) -> int:
        if failures < self.max_failures:
            return 0
        doublings = min(failures - self.max_failures, 30)
        return min(self.base_lock_s * 2**doublings, self.max_lock_s) * 1000


@dataclass
class _Failures:
    count: int
    last_ms: int
    locked_until_ms: int


class FailureCounter:
    """Failures per key (an account or an address) and the lock they earned; thread-safe."""

    def __init__(self, policy: ThrottlePolicy, max_keys: int = MAX_KEYS):
        self.policy, self.max_keys = policy, max_keys
        self._keys: OrderedDict[str, _Failures] = OrderedDict()  # least recently failed first
        self._lock = threading.Lock()

    def retry_after_s(self, key: str, now_ms: int) -> int:
        """Seconds until `key` may try again; 0 when it is not locked."""
        with self._lock:
            entry = self._keys.get(key)
            if entry is None or now_ms >= entry.locked_until_ms:
                return 0
            return -(-(entry.locked_until_ms - now_ms) // 1000)  # rounded up: never an early retry

    def record_failure(self, key: str, now_ms: int) -> bool:
        """Count one failure; True when the key is now locked."""
        with self._lock:
            entry = self._keys.pop(key, None)
            if entry is None or now_ms - entry.last_ms > self.policy.window_s * 1000:
                entry = _Failures(0, now_ms, 0)
            entry.count += 1
            entry.last_ms = now_ms
            entry.locked_until_ms = now_ms + self.policy.lock_ms(entry.count)
            self._keys[key] = entry
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)
            return entry.locked_until_ms > now_ms

    def reset(self, key: str) -> None:
        with self._lock:
            self._keys.pop(key, None)


class LoginGuard:
    """Decides before any password work whether a login may be tried, and bounds that work."""

    def __init__(self, account: ThrottlePolicy, source: ThrottlePolicy, hash_slots: int, hash_wait_s: float):
        self.accounts, self.sources = FailureCounter(account), FailureCounter(source)
        self._hash_slots = threading.BoundedSemaphore(hash_slots)
        self._hash_wait_s = hash_wait_s

    def check(self, username: str, source: str, now_ms: int) -> None:
        """Raise Throttled when the account or the source is locked: the same answer whether the account exists."""
        wait_s = max(
            self.accounts.retry_after_s(_account_key(username), now_ms), self.sources.retry_after_s(source, now_ms)
        )
        if wait_s:
            raise Throttled(THROTTLED_MESSAGE.format(s=wait_s), wait_s)

    def failed(self, username: str, source: str, now_ms: int) -> bool:
        """Count a failed login against both; True when this failure locked either."""
        account_locked = self.accounts.record_failure(_account_key(username), now_ms)
        source_locked = self.sources.record_failure(source, now_ms)
        return account_locked or source_locked

    def succeeded(self, username: str) -> None:
        """A correct password clears the account's failures (not the source's: one known password
        must not buy an address fresh guesses at other accounts)."""
        self.accounts.reset(_account_key(username))

    @contextmanager
    def hashing_slot(self) -> Iterator[None]:
        """Hold one of the few password-verification slots, or raise Busy: a flood of logins
        (even from many addresses) cannot use more than `hash_slots` cores nor Argon2's memory per slot."""
        if not self._hash_slots.acquire(timeout=self._hash_wait_s):
            raise Busy("the server is verifying too many logins at once; retry in 1 s", 1)
        try:
            yield
        finally:
            self._hash_slots.release()


def _account_key(username: str) -> str:
    return username.strip().casefold()
