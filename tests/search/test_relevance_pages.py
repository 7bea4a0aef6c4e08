"""The search page and GET /api/search say when nothing relevant was found."""
from __future__ import annotations

import pytest

from indexes.service import SearchResults
from tests.conftest import auth_headers


class _NothingRelevant:
    def __init__(self):
        self.calls = []

    def search(self, query, **kw):
        self.calls.append(kw)
        return SearchResults(query=query, mode=kw.get("mode", "hybrid"), total=0, page=1, size=10, hits=[],
                             facets={}, terms=[], took_ms=1.0, relevant=False, suggestions=["污水", "处理"])


@pytest.fixture
def nothing(monkeypatch):
    fake = _NothingRelevant()
    import api.routers.search as api_search
    import web.views as views

    monkeypatch.setattr(views, "get_search_service", lambda: fake)
    monkeypatch.setattr(api_search, "get_search_service", lambda: fake)
    return fake


def test_page_says_nothing_relevant_and_suggests_broader_terms(client, nothing):
    r = client.get("/search", params={"q": "asdfgh qwerty"})
    assert r.status_code == 200
    assert "没有找到与“asdfgh qwerty”相关的内容" in r.text
    assert "最相关的" not in r.text
    assert "污水" in r.text and "q=%E6%B1%A1%E6%B0%B4" in r.text   # a link searching the broader term


def test_api_reports_relevant_false_with_suggestions(client, nothing):
    body = client.get("/api/search", params={"q": "区块链元宇宙"}).json()
    assert body["relevant"] is False and body["hits"] == [] and body["suggestions"] == ["污水", "处理"]


def test_enterprise_search_asks_for_solutions_first(client, factory, nothing):
    ent = factory.user("enterprise")
    client.get("/api/search", params={"q": "污水处理成本高"}, headers=auth_headers(client, ent))
    assert nothing.calls[-1]["prefer"] == "achievement"
    client.get("/api/search", params={"q": "污水处理成本高"})
    assert nothing.calls[-1]["prefer"] is None
