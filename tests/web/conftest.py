"""Helpers for page tests: CSRF token from a page, form login."""
from __future__ import annotations

import re

import pytest

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client, path: str = "/login") -> str:
    r = client.get(path)
    m = CSRF_RE.search(r.text) or re.search(r'<meta name="csrf-token" content="([^"]+)"', r.text)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def page_login(client, user, password: str = "copper-lantern-42"):
    token = csrf_of(client, "/login")
    r = client.post("/login", data={"email": user.email, "password": password, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return r


@pytest.fixture
def web_login(client):
    def _login(user, password: str = "copper-lantern-42"):
        client.cookies.clear()
        return page_login(client, user, password)
    return _login


@pytest.fixture
def csrf(client):
    def _csrf(path: str = "/"):
        return csrf_of(client, path)
    return _csrf
