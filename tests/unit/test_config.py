"""Settings refuse what would run a server unsafely: unknown environment names, short secrets,
the development secret in production; the command line says so in one line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from wuxin.config import DEV_SECRET, load_settings
from wuxin.errors import ConfigError

STRONG_SECRET = "k" * 32


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("WUXIN_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize("name", ["prod", "staging", "", "developmentx"])
def test_an_unknown_environment_is_refused_naming_the_allowed_ones(clean_env, name):
    clean_env.setenv("WUXIN_ENVIRONMENT", name)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    message = str(refused.value)
    assert f"WUXIN_ENVIRONMENT={name!r}" in message and "development, test, production" in message
    assert "\n" not in message


@pytest.mark.parametrize("name", ["Production", "PRODUCTION", " production "])
def test_production_in_any_case_is_production_and_refuses_the_development_secret(clean_env, name):
    clean_env.setenv("WUXIN_ENVIRONMENT", name)
    with pytest.raises(ConfigError, match="WUXIN_SECRET_KEY must be set in production"):
        load_settings()
    clean_env.setenv("WUXIN_SECRET_KEY", STRONG_SECRET)
    assert load_settings().environment == "production"


@pytest.mark.parametrize("environment", ["production", "development", "test"])
def test_a_secret_shorter_than_32_bytes_is_refused(clean_env, environment):
    clean_env.setenv("WUXIN_ENVIRONMENT", environment)
    for secret in ("x", "k" * 31, "密" * 10):  # 1, 31 and 30 bytes (a CJK character is 3 bytes in UTF-8)
        clean_env.setenv("WUXIN_SECRET_KEY", secret)
        with pytest.raises(ConfigError, match=r"WUXIN_SECRET_KEY has \d+ bytes; at least 32 are needed") as refused:
            load_settings()
        assert secret not in str(refused.value).replace("32 are needed", "")  # the secret is never printed
    clean_env.setenv("WUXIN_SECRET_KEY", "密" * 11)  # 33 bytes
    assert load_settings().secret_key == "密" * 11


def test_the_development_defaults_still_work(clean_env):
    settings = load_settings()
    assert settings.environment == "development" and settings.secret_key == DEV_SECRET


def test_login_throttling_settings_must_keep_failures_while_locked(clean_env):
    clean_env.setenv("WUXIN_LOGIN_LOCK_MAX_S", "7200")  # longer than the 1 h failure window
    with pytest.raises(ConfigError, match="WUXIN_LOGIN_LOCK_MAX_S"):
        load_settings()
    clean_env.setenv("WUXIN_LOGIN_HASH_SLOTS", "0")
    with pytest.raises(ConfigError, match="WUXIN_LOGIN_HASH_SLOTS: Input should be greater than or equal to 1"):
        load_settings()


@pytest.mark.parametrize(
    "env, named",
    [
        ({"WUXIN_ENVIRONMENT": "prod"}, "WUXIN_ENVIRONMENT='prod'"),
        ({"WUXIN_ENVIRONMENT": "Production"}, "WUXIN_SECRET_KEY must be set"),
        ({"WUXIN_SECRET_KEY": "x"}, "WUXIN_SECRET_KEY has 1 bytes"),
    ],
)
def test_the_command_line_prints_one_line_and_exits_non_zero(tmp_path, env, named):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WUXIN_")}
    done = subprocess.run(
        [sys.executable, "-m", "wuxin.cli.main", "db", "upgrade"],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ") and named in done.stderr, done.stderr
    assert "Traceback" not in done.stderr + done.stdout and not (tmp_path / "var").exists()
