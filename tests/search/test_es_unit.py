"""How the Elasticsearch backend builds mappings, queries and bulk requests — with a
recording fake client (no cluster needed)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from indexes.backends.base import Filters, IndexDoc
from indexes.backends.elasticsearch import (
    MAPPING_FILE,
    ElasticsearchBackend,
    bm25_query,
    bulk_actions,
    filter_clauses,
    knn_query,
    load_mapping,
)


class FakeIndices:
    def __init__(self, log):
        self.log, self.indices, self.aliases = log, {}, {}

    def exists_alias(self, name):
        self.log.append(("exists_alias", name))
        return name in self.aliases

    def get(self, index):
        prefix = index.rstrip("*")
        return {n: {} for n in self.indices if n.startswith(prefix)}

    def create(self, index, **body):
        self.log.append(("create", index, body))
        self.indices[index] = body

    def put_alias(self, index, name):
        self.aliases[name] = [index]

    def get_alias(self, name):
        return {i: {} for i in self.aliases.get(name, [])}

    def update_aliases(self, actions):
        self.log.append(("update_aliases", actions))
        for a in actions:
            if "remove" in a:
                self.aliases[a["remove"]["alias"]].remove(a["remove"]["index"])
            if "add" in a:
                self.aliases.setdefault(a["add"]["alias"], []).append(a["add"]["index"])

    def delete(self, index):
        self.log.append(("delete", index))
        self.indices.pop(index, None)

    def refresh(self, index):
        self.log.append(("refresh", index))


class FakeES:
    def __init__(self):
        self.log = []
        self.indices = FakeIndices(self.log)
        self.search_response = {"hits": {"hits": []}}

    def search(self, **kw):
        self.log.append(("search", kw))
        return self.search_response

    def bulk(self, *a, **kw):  # helpers.bulk calls client.bulk(operations=...)
        ops = kw.get("operations") or kw.get("body")
        self.log.append(("bulk", ops))
        n = sum(1 for o in ops if isinstance(o, dict) and set(o) & {"index", "delete"})
        return {"errors": False, "items": [{"index": {"status": 200}}] * n}

    def options(self, **kw):
        return self


def test_mapping_file_is_valid_and_whitespace_analysed():
    m = json.loads(MAPPING_FILE.read_text())
    props = m["mappings"]["properties"]
    assert m["settings"]["analysis"]["analyzer"]["presegmented"]["tokenizer"] == "whitespace"
    for f in ("title_tok", "body_tok", "kw_tok"):
        assert props[f] == {"type": "text", "analyzer": "presegmented"}
    for f in ("kind", "fields", "modes", "region", "maturity", "status", "content_hash"):
        assert props[f]["type"] == "keyword"
    assert props["vector"]["similarity"] == "cosine"
    assert load_mapping(768)["mappings"]["properties"]["vector"]["dims"] == 768


def test_filter_clauses():
    f = Filters(kind="achievement", fields=["新能源"], region="320100", maturity=["pilot"],
                modes=["license"], date_from=100.0, date_to=200.0, exclude=["achievement:1"])
    c = filter_clauses(f)
    assert {"term": {"kind": "achievement"}} in c
    assert {"terms": {"status": ["published", "transferred", "matched", "solved"]}} not in c  # exact list below
    st = next(x for x in c if "terms" in x and "status" in x["terms"])["terms"]["status"]
    assert "published" in st and "draft" not in st
    assert {"range": {"region": {"gte": "320100", "lte": "320199"}}} in c
    assert {"terms": {"fields": ["新能源"]}} in c and {"terms": {"maturity": ["pilot"]}} in c
    assert {"range": {"created_at": {"format": "epoch_second", "gte": 100, "lt": 200}}} in c
    assert {"bool": {"must_not": [{"ids": {"values": ["achievement:1"]}}]}} in c
    assert not any("status" in json.dumps(x) for x in filter_clauses(Filters(published_only=False)))


def test_bm25_query_groups_synonyms():
    q = bm25_query([["锂电池", "锂离子电池"], ["回收"]], Filters())
    should = q["bool"]["should"]
    assert q["bool"]["minimum_should_match"] == 1
    assert [m["multi_match"]["query"] for m in should[0]["dis_max"]["queries"]] == ["锂电池", "锂离子电池"]
    assert should[1]["multi_match"]["fields"] == ["title_tok^3", "body_tok", "kw_tok^2"]


def test_knn_query():
    k = knn_query(np.ones(4, np.float32) / 2, Filters(kind="problem"), 50)
    assert k["field"] == "vector" and k["k"] == 50 and k["num_candidates"] == 100
    assert k["query_vector"] == [0.5] * 4 and {"term": {"kind": "problem"}} in k["filter"]


def test_bulk_actions_and_source():
    d = IndexDoc(kind="achievement", id="7", title="标题", text="正文", title_tokens="标题",
                 body_tokens="正文", keywords=["k"], region="330106", created_at=1700000000.5,
                 content_hash="h", vector=np.ones(2, np.float32))
    (a,) = list(bulk_actions("idx", [d]))
    assert a["_op_type"] == "index" and a["_id"] == "achievement:7" and a["_index"] == "idx"
    s = a["_source"]
    assert s["title_tok"] == "标题" and s["created_at"] == 1700000000 and s["vector"] == [1.0, 1.0]
    assert s["doc"]["title"] == "标题" and "vector" not in s["doc"]


def test_versioned_index_and_alias_swap():
    es = FakeES()
    be = ElasticsearchBackend(es, "tm", 384)
    assert be.target == "tm-listings"
    assert ("create", "tm-listings-v0001", load_mapping(384)) in es.log
    assert es.indices.aliases["tm-listings"] == ["tm-listings-v0001"]
    new = be.begin_rebuild()
    assert new.target == "tm-listings-v0002"
    be.commit_rebuild(new)
    upd = next(x for x in es.log if x[0] == "update_aliases")[1]
    assert upd == [{"remove": {"index": "tm-listings-v0001", "alias": "tm-listings"}},
                   {"add": {"index": "tm-listings-v0002", "alias": "tm-listings"}}]
    assert ("delete", "tm-listings-v0001") in es.log
    assert es.indices.aliases["tm-listings"] == ["tm-listings-v0002"]


def test_search_calls_and_score_conversion():
    es = FakeES()
    be = ElasticsearchBackend(es, "tm", 4, index="tm-listings-v0001")
    es.search_response = {"hits": {"hits": [{"_id": "achievement:1", "_score": 0.9}]}}
    hits = be.vector_search(np.ones(4) / 2, Filters(), 5)
    assert hits == [("achievement:1", pytest.approx(0.8))]
    kw = es.log[-1][1]
    assert kw["index"] == "tm-listings-v0001" and kw["knn"]["k"] == 5 and kw["source"] is False
    es.search_response = {"hits": {"hits": [{"_id": "achievement:2", "_score": 7.5}]}}
    assert be.keyword_search([["电池"]], Filters(), 5) == [("achievement:2", 7.5)]
    assert "query" in es.log[-1][1]
    assert be.keyword_search([], Filters(), 5) == []


def test_browse_request_and_facets():
    es = FakeES()
    be = ElasticsearchBackend(es, "tm", 4, index="tm-listings-v0001")
    es.search_response = {
        "hits": {"total": {"value": 1234, "relation": "eq"},
                 "hits": [{"_id": "achievement:9"}, {"_id": "problem:3"}]},
        "aggregations": {
            "kind": {"buckets": [{"key": "achievement", "doc_count": 1000}, {"key": "problem", "doc_count": 234}]},
            "region": {"buckets": [{"key": "330421", "doc_count": 700}, {"key": "320115", "doc_count": 300},
                                   {"key": "330106", "doc_count": 234}]},
            "fields": {"buckets": [{"key": "新能源", "doc_count": 40}]}}}
    b = be.browse(Filters(kind="achievement", region="33"), 20, 10)
    assert b.keys == ["achievement:9", "problem:3"] and b.total == 1234
    assert b.facets["region"] == {"330000": 934, "320000": 300}  # counties rolled up to provinces
    assert b.facets["kind"] == {"achievement": 1000, "problem": 234} and b.facets["fields"] == {"新能源": 40}
    assert b.facets["modes"] == {} and set(b.facets) == {"kind", "fields", "region", "maturity", "modes", "status"}
    kw = es.log[-1][1]
    assert kw["from_"] == 20 and kw["size"] == 10 and kw["track_total_hits"] is True and kw["source"] is False
    assert kw["sort"][0] == {"created_at": {"order": "desc", "missing": "_last"}}
    assert {"term": {"kind": "achievement"}} in kw["query"]["bool"]["filter"]
    assert "must" not in kw["query"]["bool"]  # filters only: no scoring
    assert kw["aggs"]["region"]["terms"]["field"] == "region"


def test_bulk_upsert_uses_helpers(monkeypatch):
    from elasticsearch import helpers

    seen = {}

    def fake_bulk(client, actions, **kw):
        seen["actions"] = list(actions)
        seen["kw"] = kw
        return len(seen["actions"]), []

    monkeypatch.setattr(helpers, "bulk", fake_bulk)
    be = ElasticsearchBackend(FakeES(), "tm", 2, index="v")
    be.upsert([IndexDoc(kind="problem", id="1", title="t", text="", vector=np.ones(2, np.float32))])
    assert seen["actions"][0]["_id"] == "problem:1" and seen["kw"]["raise_on_error"] is True
    be.delete(["problem:1"])
    assert seen["actions"] == [{"_op_type": "delete", "_index": "v", "_id": "problem:1"}]


def test_facets_of_candidates_in_one_aggregation_request():
    es = FakeES()
    be = ElasticsearchBackend(es, "tm", 4, index="tm-listings-v0001")
    es.search_response = {"hits": {"hits": []}, "aggregations": {
        "kind": {"buckets": [{"key": "achievement", "doc_count": 2}]},
        "region": {"buckets": [{"key": "320115", "doc_count": 1}, {"key": "320506", "doc_count": 1}]}}}
    f = be.facets(["achievement:1", "achievement:2"])
    assert f["kind"] == {"achievement": 2} and f["region"] == {"320000": 2} and f["fields"] == {}
    kw = es.log[-1][1]
    assert kw["query"] == {"ids": {"values": ["achievement:1", "achievement:2"]}} and kw["size"] == 0
    assert set(kw["aggs"]) == {"kind", "fields", "region", "maturity", "modes", "status"}
    n = len(es.log)
    assert be.facets([])["kind"] == {} and len(es.log) == n  # nothing to ask
