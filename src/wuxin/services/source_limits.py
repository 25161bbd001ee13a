"""A source (client IP) that keeps failing authentication is refused for a while: guessing device
tokens or platform signatures, or filling the quarantine without a credential, gets slow."""
from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from wuxin.errors import RateLimited


class FailureLimiter:
    """At most `per_minute` authentication failures per source within any 60 s; past that, `check` refuses."""

    def __init__(self, per_minute: int):
        self._limiter = MovingWindowRateLimiter(MemoryStorage())  # forgets idle sources by itself
        self._limit = RateLimitItemPerMinute(max(per_minute, 1))
        self.per_minute = max(per_minute, 1)

    def check(self, source: str) -> None:
        """Raise RateLimited (429 with Retry-After) while `source` is over its failures."""
        if self._limiter.test(self._limit, source):
            return
        reset_s = self._limiter.get_window_stats(self._limit, source).reset_time
        retry_after_s = max(1, math.ceil(reset_s - time.time()))
        raise RateLimited(f"{source} failed authentication {self.per_minute} times within a minute; "
                          f"try again in {retry_after_s} s with a valid token or signature", retry_after_s)

    def failed(self, source: str) -> None:
        self._limiter.hit(self._limit, source)
