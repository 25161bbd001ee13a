"""Login against guessing: failures lock the account and the source address (429 Retry-After)
before any password work, an unknown user costs what a known one costs, Argon2 work is bounded."""

from __future__ import annotations

import statistics
import time

import pytest
from argon2 import PasswordHasher, extract_parameters

import wuxin.security.secrets as secrets
from wuxin.security.login_guard import LoginGuard, ThrottlePolicy
from wuxin.services.access import identity

PASSWORD = "correct-horse-battery"
LOGIN = "/api/v1/auth/login"


@pytest.fixture
def users(platform):
    bank = identity.create_tenant(platform, "Test Bank", "bank")
    for username in ("officer", "risk"):
        identity.create_user(platform, username, PASSWORD, "credit_officer", bank)
    identity.create_user(platform, "retired", PASSWORD, "credit_officer", bank)
    with platform.uow() as uow:
        uow.conn.exec_driver_sql("UPDATE users SET disabled = true WHERE username = 'retired'")
        uow.commit()
    return platform


def attempt(live, username: str, password: str = "wrong-password-123", source: str | None = None):
    # uvicorn trusts X-Forwarded-For from 127.0.0.1 (FORWARDED_ALLOW_IPS): the test plays a local proxy
    headers = {"X-Forwarded-For": source} if source else {}
    return live.client.post(LOGIN, json={"username": username, "password": password}, headers=headers)


@pytest.fixture
def verifications(monkeypatch):
    """How many Argon2 verifications the server ran."""
    calls = []

    class CountingHasher(PasswordHasher):
        def verify(self, *args) -> bool:
            calls.append(1)
            return super().verify(*args)

    cost = extract_parameters(secrets._hasher.hash("the current cost"))
    monkeypatch.setattr(secrets, "_hasher", CountingHasher.from_parameters(cost))
    return calls


def test_thirty_wrong_passwords_lock_the_account_even_for_the_right_one(live, users, verifications):
    statuses = [attempt(live, "officer").status_code for _ in range(30)]
    assert statuses == [401] * 5 + [429] * 25
    assert len(verifications) == 5  # locked attempts are refused before any hashing
    right = attempt(live, "officer", PASSWORD)
    assert right.status_code == 429 and right.json()["error"] == "too_many_attempts"
    retry_after_s = int(right.headers["Retry-After"])
    assert retry_after_s >= 1 and f"retry in {retry_after_s} s" in right.json()["message"]
    assert attempt(live, "risk", PASSWORD).status_code == 200  # another account from the same address logs in
    users.clock.advance(retry_after_s * 1000)
    assert attempt(live, "officer", PASSWORD).status_code == 200  # the lock has run out
    assert [attempt(live, "officer").status_code for _ in range(5)] == [401] * 5  # the success cleared the count


def test_the_lock_doubles_with_each_failure_after_it_runs_out(live, users):
    for _ in range(5):
        attempt(live, "officer")
    waits = []
    for _ in range(4):
        locked = attempt(live, "officer", PASSWORD)
        waits.append(int(locked.headers["Retry-After"]))
        users.clock.advance(waits[-1] * 1000)
        assert attempt(live, "officer").status_code == 401  # one more guess, then a longer lock
    assert waits == [1, 2, 4, 8]


def test_one_address_is_throttled_across_many_usernames(live, users, verifications):
    statuses = [attempt(live, f"guess-{n}", source="203.0.113.7").status_code for n in range(20)]
    assert statuses == [401] * 20
    refused = attempt(live, "officer", PASSWORD, source="203.0.113.7")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert len(verifications) == 20
    assert attempt(live, "officer", PASSWORD, source="198.51.100.9").status_code == 200  # other addresses are not
    assert (
        attempt(live, "officer", PASSWORD, source="203.0.113.7").status_code == 429
    )  # a success elsewhere frees no one


def test_a_locked_unknown_account_answers_like_a_locked_known_one(live, users):
    for username, source in (("officer", "192.0.2.1"), ("nobody-here", "192.0.2.2")):
        assert {attempt(live, username, source=source).status_code for _ in range(5)} == {401}
    known = attempt(live, "officer", PASSWORD, source="192.0.2.3")
    unknown = attempt(live, "nobody-here", PASSWORD, source="192.0.2.4")
    assert known.status_code == unknown.status_code == 429
    assert known.json() == unknown.json() and known.headers["Retry-After"] == unknown.headers["Retry-After"]
    assert "nobody-here" not in unknown.text and "officer" not in known.text


def test_unknown_and_disabled_users_cost_one_password_verification_like_a_wrong_password(live, users, verifications):
    for username in ("officer", "nobody-here", "retired"):
        before = len(verifications)
        response = attempt(live, username, PASSWORD if username == "retired" else "wrong-password-123")
        assert response.status_code == 401 and response.json()["message"] == "wrong username or password"
        assert len(verifications) - before == 1, username


def test_unknown_user_login_takes_about_as_long_as_a_wrong_password(live, users, monkeypatch):
    """A behaviour test, not a speed target: with Argon2's real cost, the two medians are within 2x."""
    monkeypatch.setattr(secrets, "_hasher", PasswordHasher())  # the library's default cost, as in production
    identity.create_user(users, "costly", PASSWORD, "credit_officer", 1)
    unknown_s, wrong_s = [], []
    for n in range(5):  # interleaved, so that a busy moment of the machine hits both
        for username, times in ((f"nobody-{n}", unknown_s), ("costly", wrong_s)):
            began = time.perf_counter()
            assert attempt(live, username).status_code == 401
            times.append(time.perf_counter() - began)
    ratio = statistics.median(unknown_s) / statistics.median(wrong_s)
    assert 0.5 <= ratio <= 2, (
        f"unknown user {statistics.median(unknown_s) * 1000:.1f} ms, wrong password "
        f"{statistics.median(wrong_s) * 1000:.1f} ms"
    )


def test_password_verification_is_bounded_and_a_saturated_server_says_retry(live, users):
    policy = ThrottlePolicy(5, 3600, 1, 900)
    users.login_guard = LoginGuard(policy, ThrottlePolicy(20, 3600, 1, 900), hash_slots=1, hash_wait_s=0)
    with users.login_guard.hashing_slot():  # another login is being verified
        busy = attempt(live, "officer", PASSWORD)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1" and busy.json()["error"] == "busy"
    assert attempt(live, "officer", PASSWORD).status_code == 200  # the slot is free again
    assert [attempt(live, "officer").status_code for _ in range(5)] == [401] * 5  # a busy answer is no failure


def test_failed_logins_are_audited_without_the_password(live, users):
    attempt(live, "officer", "wrong-password-123")
    attempt(live, "nobody-here", "another-guess-456", source="198.51.100.9")
    with users.uow() as uow:
        entries = [e for e in uow.logs.audit_entries() if e["action"] == "auth.login_failed"]
        officer_id = uow.identity.user_by_username("officer")["id"]
    assert [(e["user_id"], e["subject"], e["detail"]["source"], e["detail"]["reason"]) for e in entries] == [
        (None, "nobody-here", "198.51.100.9", "unknown_user"),
        (officer_id, "officer", "127.0.0.1", "wrong_password"),
    ]
    assert "wrong-password-123" not in repr(entries) and "another-guess-456" not in repr(entries)
