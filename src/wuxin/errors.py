"""The Wuxin exception tree; every message names the thing and the value.

WuxinError
 ├── NotFound            an enterprise, device, thing model ... does not exist
 ├── Gone                it existed and was deleted on purpose (readings past their retention)
 ├── Conflict            a unique thing already exists (USCC, device key, username)
 ├── InvalidInput        bad data from a user, file or device
 │    └── ThingModelError  a thing model (TSL) file is not valid
 ├── AuthError           who you are could not be established (bad password, token)
 ├── Throttled           too many attempts (failed logins): retry after `retry_after_s`
 │    └── RateLimited      this source failed authentication too often lately
 ├── Denied              you are known but not allowed (role, tenant, consent)
 ├── Unavailable         a service we depend on (the database, the broker) does not answer: retry later
 │    ├── Busy             the server is saturated (password hashing): retry after `retry_after_s`
 │    └── StorageFull      the database's disk (or its size limit) is full: writes fail until space is freed
 └── ConfigError         the settings (WUXIN_* variables) are refused; the message is one line
"""


class WuxinError(Exception):
    """Base of every error the platform raises on purpose."""

    status_code = 500
    code = "error"
    retry_after_s: int | None = None  # sent as Retry-After when set

    def __init__(self, message: str = "", retry_after_s: int | None = None):
        super().__init__(message)
        if retry_after_s is not None:
            self.retry_after_s = retry_after_s


class NotFound(WuxinError):
    status_code = 404
    code = "not_found"


class Gone(WuxinError):
    status_code = 410
    code = "gone"


class Conflict(WuxinError):
    status_code = 409
    code = "conflict"


class InvalidInput(WuxinError):
    status_code = 422
    code = "invalid_input"


class ThingModelError(InvalidInput):
    code = "invalid_thing_model"


class AuthError(WuxinError):
    status_code = 401
    code = "unauthenticated"


class Denied(WuxinError):
    status_code = 403
    code = "forbidden"


class Throttled(WuxinError):
    status_code = 429
    code = "too_many_attempts"


class RateLimited(Throttled):
    code = "too_many_failures"


class Unavailable(WuxinError):
    status_code = 503
    code = "unavailable"
    retry_after_s = 30  # the HTTP Retry-After a client is told


class StorageFull(Unavailable):
    code = "storage_full"
    retry_after_s = 60


class Busy(Unavailable):
    code = "busy"


class ConfigError(WuxinError):
    code = "invalid_settings"
