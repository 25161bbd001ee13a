"""The Wuxin exception tree; every message names the thing and the value.

WuxinError
 ├── NotFound            an enterprise, device, thing model ... does not exist
 ├── Conflict            a unique thing already exists (USCC, device key, username)
 ├── InvalidInput        bad data from a user, file or device
 │    └── ThingModelError  a thing model (TSL) file is not valid
 ├── AuthError           who you are could not be established (bad password, token)
 ├── Denied              you are known but not allowed (role, tenant, consent)
 └── Unavailable         a service we depend on (the database, the broker) does not answer: retry later
      └── StorageFull     the database's disk (or its size limit) is full: writes fail until space is freed
"""


class WuxinError(Exception):
    """Base of every error the platform raises on purpose."""

    status_code = 500
    code = "error"


class NotFound(WuxinError):
    status_code = 404
    code = "not_found"


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


class Unavailable(WuxinError):
    status_code = 503
    code = "unavailable"
    retry_after_s = 30  # the HTTP Retry-After a client is told


class StorageFull(Unavailable):
    code = "storage_full"
    retry_after_s = 60
