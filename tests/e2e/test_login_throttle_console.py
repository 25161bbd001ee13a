"""The console's login says, in the reader's language, that the account is locked after too many failures."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("lang, label", [("zh-CN", "登录失败次数过多"), ("en", "Too many failed logins")])
def test_the_login_form_says_when_failures_locked_the_account(demo, browser, lang, label):
    # as if through a local proxy from another address: the failures do not count against 127.0.0.1,
    # from where the other console tests log in
    context = browser.new_context(locale=lang, extra_http_headers={"X-Forwarded-For": f"192.0.2.{len(lang)}"})
    context.add_init_script(f"localStorage.setItem('wuxin.lang', '{lang}')")
    try:
        page = context.new_page()
        page.goto(f"{demo}/console#/login")
        page.wait_for_selector("#username")
        page.fill("#username", f"intruder-{lang}")  # no such user: the demo's own users stay unlocked
        page.fill("#password", "not-the-password")
        for attempt in range(6):  # five failures lock the account name
            page.evaluate("() => { document.getElementById('login-error').textContent = ''; }")
            page.click("#login-submit")
            page.wait_for_function("() => document.getElementById('login-error').textContent !== ''", timeout=30_000)
        message = page.text_content("#login-error")
        assert message.startswith(label) and "retry in" in message, message
    finally:
        context.close()
