"""A source (client IP) that keeps failing authentication is refused for a while: guessing device
tokens or platform signatures, or filling the quarantine without a credential, gets slow. Only
failing requests are refused: a device with a valid token behind the same address goes on."""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from wuxin.errors import RateLimited


class FailureLimiter:
    """At most `per_minute` authentication failures per source within any 60 s."""

    def __init__(self, per_minute: int):
        self.per_minute = max(per_minute, 1)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())  # forgets idle sources by itself
        self._limit = RateLimitItemPerMinute(self.per_minute)

    def blocked(self, source: str) -> bool:
        """True while `source` has used up its failures: refuse it before any lookup."""
        return not self._limiter.test(self._limit, source)

    def failed(self, source: str) -> None:
        """Count one failure of `source`; raise RateLimited (429 with Retry-After) when it is one too many."""
        if self._limiter.hit(self._limit, source):
            return
        reset_s = self._limiter.get_window_stats(self._limit, source).reset_time
        retry_after_s = max(1, math.ceil(reset_s - time.time()))
        raise RateLimited(
            f"{source} failed authentication {self.per_minute} times within a minute: its requests "
            f"without a valid device token or signature are refused, and not kept, for the next "
            f"{retry_after_s} s",
            retry_after_s,
        )
