"""Alarm notifications: channels per tenant (webhook signed with HMAC-SHA256, or e-mail over SMTP) and an
outbox delivered with retries and exponential backoff; the clock decides when a retry is due (no sleeping).

Webhook receivers verify `X-Wuxin-Signature: sha256=<hex>` = HMAC-SHA256(secret, f"{X-Wuxin-Timestamp}.{body}")
and may drop repeats by `X-Wuxin-Delivery` (delivery is at least once).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import smtplib
from email.message import EmailMessage
from typing import cast

import httpx
import orjson
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from wuxin.alerts.rules import SEVERITIES
from wuxin.bootstrap import Platform
from wuxin.domain.model import Role
from wuxin.errors import InvalidInput
from wuxin.security.policy import Principal, require_role
from wuxin.security.secrets import new_token
from wuxin.store.rows import DueNotificationRow

MAX_ATTEMPTS = 6
FIRST_RETRY_MS = 30_000
MAX_RETRY_MS = 3_600_000


def _fernet(platform: Platform) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"wuxin notification secrets", info=b"v1").derive(
        platform.settings.secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def sign(secret: str, timestamp_ms: int, body: bytes) -> str:
    """The webhook signature header value."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def retry_delay_ms(attempts: int) -> int:
    """30 s, 1 min, 2 min, ... capped at an hour."""
    return min(FIRST_RETRY_MS * 2 ** max(attempts - 1, 0), MAX_RETRY_MS)


def add_channel(platform: Platform, principal: Principal, kind: str, target: str, min_severity: str = "major") -> dict:
    """A risk manager adds a channel for the bank; a webhook's secret is shown once and stored encrypted."""
    require_role(principal, Role.RISK_MANAGER)
    if kind not in ("webhook", "email"):
        raise InvalidInput(f"channel kind {kind!r} is not one of webhook, email")
    if min_severity not in SEVERITIES:
        raise InvalidInput(f"min_severity {min_severity!r} is not one of {list(SEVERITIES)}")
    if kind == "webhook" and not target.startswith(("http://", "https://")):
        raise InvalidInput(f"webhook target {target!r} must be an http(s) URL")
    if kind == "email" and ("@" not in target or len(target) > 300):
        raise InvalidInput(f"e-mail target {target!r} is not an address")
    secret = new_token("whsec") if kind == "webhook" else None
    with platform.uow() as uow:
        channel_id = uow.monitoring.add_channel(
            tenant_id=principal.tenant_id,
            kind=kind,
            target=target,
            min_severity=min_severity,
            secret=_fernet(platform).encrypt(secret.encode()).decode() if secret else None,
            created_ms=platform.clock_ms(),
        )
        uow.logs.audit(
            platform.clock_ms(),
            principal.user_id,
            "notification.channel.add",
            f"channel:{channel_id}",
            {"kind": kind, "target": target, "min_severity": min_severity},
        )
        uow.commit()
    return {"id": channel_id, "kind": kind, "target": target, "min_severity": min_severity, "secret": secret}


def deliver_due(
    platform: Platform, limit: int = 200, smtp: tuple[str, int] | None = None, client: httpx.Client | None = None
) -> dict:
    """Send every due notification once; failures are rescheduled, and given up after MAX_ATTEMPTS."""
    now_ms = platform.clock_ms()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    with platform.uow() as uow:
        due = uow.monitoring.due_notifications(now_ms, limit)
    own_client = client is None
    client = client or httpx.Client(timeout=5.0)
    try:
        for n in due:
            error = _send(platform, n, now_ms, smtp or _smtp_of(platform), client)
            with platform.uow() as uow:
                attempts = n["attempts"] + 1
                if error is None:
                    uow.monitoring.set_notification(
                        n["id"], status="sent", attempts=attempts, sent_ms=now_ms, last_error=None
                    )
                    counts["sent"] += 1
                elif attempts >= MAX_ATTEMPTS:
                    uow.monitoring.set_notification(
                        n["id"], status="failed", attempts=attempts, last_error=error[:1000]
                    )
                    counts["failed"] += 1
                else:
                    uow.monitoring.set_notification(
                        n["id"],
                        attempts=attempts,
                        last_error=error[:1000],
                        next_attempt_ms=now_ms + retry_delay_ms(attempts),
                    )
                    counts["retry"] += 1
                uow.commit()
    finally:
        if own_client:
            client.close()
    return counts


def _smtp_of(platform: Platform) -> tuple[str, int]:
    return platform.settings.smtp_host, platform.settings.smtp_port


def _send(
    platform: Platform, n: DueNotificationRow, now_ms: int, smtp: tuple[str, int], client: httpx.Client
) -> str | None:
    """None when delivered, else the reason."""
    body = orjson.dumps(n["payload"])
    try:
        if n["kind"] == "webhook":
            ciphertext = cast(str, n["secret"])  # add_channel gives every webhook a secret
            secret = _fernet(platform).decrypt(ciphertext.encode()).decode()
            headers = {
                "Content-Type": "application/json",
                "X-Wuxin-Timestamp": str(now_ms),
                "X-Wuxin-Signature": sign(secret, now_ms, body),
                "X-Wuxin-Delivery": str(n["id"]),
            }
            response = client.post(n["target"], content=body, headers=headers)
            return None if 200 <= response.status_code < 300 else f"webhook answered HTTP {response.status_code}"
        _email(smtp, platform.settings.smtp_from, n["target"], n["payload"])
        return None
    except (httpx.HTTPError, OSError, smtplib.SMTPException) as exc:
        return f"{type(exc).__name__}: {exc}"


def _email(smtp: tuple[str, int], sender: str, to: str, payload: dict) -> None:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = (
        f"[物信 {payload['severity']}] {payload['alarm_type']} {payload['event']} "
        f"(alarm {payload['id']}, enterprise {payload['enterprise_id']})"
    )
    message.set_content(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
    with smtplib.SMTP(smtp[0], smtp[1], timeout=5) as server:
        server.send_message(message)
