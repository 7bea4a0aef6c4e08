"""Backend-agnostic suite: runs against the embedded backend always, and against
Elasticsearch when TECHMATCH_ES_URL is set (otherwise skipped with the reason shown)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from indexes.backends.base import Filters, IndexDoc

from .conftest import unit

DIM = 8


def doc(kind, i, title, body, *, vec, fields=(), region="330106", maturity="pilot", modes=(),
        status="published", created=1_700_000_000.0, kw=""):
    return IndexDoc(kind=kind, id=str(i), title=title, text=body, title_tokens=title, body_tokens=body,
                    keyword_tokens=kw, fields=list(fields), region=region, maturity=maturity,
                    modes=list(modes), status=status, created_at=created, content_hash=f"h{i}",
                    vector=unit(vec))


def e(i):
    v = np.zeros(DIM, np.float32)
    v[i % DIM] = 1.0
    return v


@pytest.fixture
def be(make_backend):
    b = make_backend(DIM, "suite")
    b.upsert([
        doc("achievement", 1, "锂离子 电池 正极 材料", "高镍 正极 包覆", vec=e(0) + 0.1 * e(1),
            fields=["新能源"], region="330106", modes=["license"], created=1_700_000_000),
        doc("achievement", 2, "电池 回收", "退役 电池 梯次 利用", vec=e(1), fields=["新能源", "环保"],
            region="320115", maturity="industrial", modes=["transfer"], created=1_710_000_000),
        doc("achievement", 3, "废水 处理", "养殖 废水 厌氧", vec=e(2), fields=["环保"], region="320506",
            maturity="industrial", created=1_720_000_000),
        doc("problem", 4, "正极 材料 寿命", "循环 寿命 不足", vec=e(0), fields=["新能源"], region="330421",
            modes=["development"]),
        doc("achievement", 5, "草稿 电池", "钠 离子 电池", vec=e(0) + 0.2 * e(3), status="draft"),
    ])
    b.refresh()
    return b


def keys(hits):
    return [k for k, _ in hits]


def test_keyword_bm25_title_weighted(be):
    hits = be.keyword_search([["电池"]], Filters(), 10)
    assert set(keys(hits)) == {"achievement:1", "achievement:2"}  # draft hidden
    assert all(s > 0 for _, s in hits)


def test_keyword_synonym_group_and_or(be):
    hits = be.keyword_search([["污水", "废水"], ["寿命"]], Filters(), 10)
    assert set(keys(hits)) == {"achievement:3", "problem:4"}


def test_vector_search_cosine(be):
    hits = be.vector_search(unit(e(0)), Filters(kind="achievement"), 3)
    assert keys(hits)[0] == "achievement:1"
    assert hits[0][1] == pytest.approx(float(unit(e(0) + 0.1 * e(1)) @ unit(e(0))), abs=1e-4)


def test_filters(be):
    q = unit(e(0) + e(1) + e(2))
    assert set(keys(be.vector_search(q, Filters(kind="problem"), 10))) == {"problem:4"}
    assert set(keys(be.vector_search(q, Filters(region="32"), 10))) == {"achievement:2", "achievement:3"}
    assert set(keys(be.vector_search(q, Filters(region="320100"), 10))) == {"achievement:2"}
    assert set(keys(be.vector_search(q, Filters(fields=["环保"]), 10))) == {"achievement:2", "achievement:3"}
    assert set(keys(be.vector_search(q, Filters(maturity=["industrial"]), 10))) == {"achievement:2", "achievement:3"}
    assert set(keys(be.vector_search(q, Filters(modes=["license", "development"]), 10))) == \
        {"achievement:1", "problem:4"}
    assert set(keys(be.vector_search(q, Filters(date_from=1_705_000_000, date_to=1_715_000_000), 10))) == \
        {"achievement:2"}
    assert set(keys(be.keyword_search([["电池"]], Filters(region="3201"), 10))) == {"achievement:2"}


def test_visibility(be):
    q = unit(e(0))
    assert "achievement:5" not in keys(be.vector_search(q, Filters(), 10))
    assert "achievement:5" in keys(be.vector_search(q, Filters(published_only=False), 10))
    assert keys(be.vector_search(q, Filters(published_only=False, status=["draft"]), 10)) == ["achievement:5"]
    # asking for drafts without the right gives nothing, not drafts
    assert be.vector_search(q, Filters(status=["draft"]), 10) == []


def test_update_replaces_and_delete_removes(be):
    be.upsert([doc("achievement", 2, "石墨烯 导热", "导热 膜", vec=e(5), fields=["新材料"])])
    be.refresh()
    assert "achievement:2" not in keys(be.keyword_search([["回收"]], Filters(), 10))
    assert keys(be.keyword_search([["石墨烯"]], Filters(), 10)) == ["achievement:2"]
    assert keys(be.vector_search(unit(e(5)), Filters(), 1)) == ["achievement:2"]
    assert be.vector_search(unit(e(5)), Filters(fields=["环保"]), 10)[0][0] != "achievement:2"
    be.delete(["achievement:2", "achievement:404"])
    be.refresh()
    assert "achievement:2" not in keys(be.vector_search(unit(e(5)), Filters(), 10))
    assert be.keyword_search([["石墨烯"]], Filters(), 10) == []
    assert "achievement:2" not in be.hashes()
    assert be.count() == 4


def test_docs_vectors_hashes(be):
    d = be.get_docs(["achievement:1", "nope:1"])
    assert list(d) == ["achievement:1"] and d["achievement:1"]["title"] == "锂离子 电池 正极 材料"
    v = be.get_vectors(["achievement:1"])["achievement:1"]
    assert v.dtype == np.float32 and v.shape == (DIM,)
    assert be.hashes()["achievement:3"] == "h3"
    s = be.dense_scores(unit(e(2)), ["achievement:3", "achievement:1"])
    assert s["achievement:3"] == pytest.approx(1.0, abs=1e-4)


def test_browse_newest_first_with_total_and_facets(be):
    b = be.browse(Filters(), 0, 10)
    # 1 and 4 were created at the same second: ties go by key
    assert b.keys == ["achievement:3", "achievement:2", "achievement:1", "problem:4"] and b.total == 4
    assert b.facets["kind"] == {"achievement": 3, "problem": 1}
    assert b.facets["fields"] == {"新能源": 3, "环保": 2}
    assert b.facets["region"] == {"320000": 2, "330000": 2}
    page = be.browse(Filters(), 1, 2)
    assert page.keys == ["achievement:2", "achievement:1"] and page.total == 4 and page.facets == b.facets
    b = be.browse(Filters(region="32", kind="achievement"), 0, 10)
    assert (b.keys, b.total, b.facets["maturity"]) == (["achievement:3", "achievement:2"], 2, {"industrial": 2})
    b = be.browse(Filters(published_only=False), 0, 1)
    assert b.total == 5 and b.facets["status"] == {"published": 4, "draft": 1}
    assert be.browse(Filters(fields=["农业"]), 0, 10).total == 0


def test_exclude(be):
    hits = be.vector_search(unit(e(0)), Filters(exclude=["achievement:1"]), 10)
    assert "achievement:1" not in keys(hits)


def test_rebuild_switches_atomically(be):
    new = be.begin_rebuild()
    new.upsert([doc("achievement", 9, "全新 版本", "只有 一条", vec=e(6))])
    # readers still see the old version until the switch
    assert be.count() == 5
    be.commit_rebuild(new)
    be.refresh()
    assert be.count() == 1
    assert keys(be.keyword_search([["版本"]], Filters(), 10)) == ["achievement:9"]


def test_second_reader_sees_writes(be, tmp_path):
    """Embedded: another process-level reader (separate instance) sees later writes."""
    if be.name != "embedded":
        pytest.skip("embedded-specific")
    from indexes.backends.embedded import EmbeddedBackend

    reader = EmbeddedBackend(be.root, DIM)
    assert reader.count() == 5
    assert keys(reader.vector_search(unit(e(7)), Filters(), 1)) != ["achievement:7"]
    be.upsert([doc("achievement", 7, "新增", "新增", vec=e(7))])
    assert keys(reader.vector_search(unit(e(7)), Filters(), 1)) == ["achievement:7"]
    # tags changed by another writer are re-read: a field filter follows the update
    assert keys(reader.vector_search(unit(e(7)), Filters(fields=["新材料"]), 10)) == []
    be.upsert([doc("achievement", 7, "新增", "新增", vec=e(6), fields=["新材料"])])
    assert keys(reader.vector_search(unit(e(7)), Filters(fields=["新材料"]), 10)) == ["achievement:7"]
    assert reader.get_vectors(["achievement:7"])["achievement:7"] == pytest.approx(unit(e(6)))
    be.upsert([doc("achievement", 7, "新增", "新增", vec=e(7), fields=["环保"])])
    assert keys(reader.vector_search(unit(e(7)), Filters(fields=["新材料"]), 10)) == []
    assert keys(reader.vector_search(unit(e(7)), Filters(fields=["环保"]), 1)) == ["achievement:7"]
    be.delete(["achievement:7"])
    assert "achievement:7" not in keys(reader.vector_search(unit(e(7)), Filters(), 10))
    reader.close()


def test_second_reader_loads_many_changed_rows(be):
    """Embedded: a reader catching up on many rows at once (the memory-mapped path) gets
    the same vectors and masks as one that follows row by row."""
    if be.name != "embedded":
        pytest.skip("embedded-specific")
    from indexes.backends.embedded import EmbeddedBackend

    reader = EmbeddedBackend(be.root, DIM)
    assert reader.count() == 5
    rng = np.random.default_rng(3)
    vecs = {i: rng.standard_normal(DIM).astype(np.float32) for i in range(100, 400)}
    be.upsert([doc("problem", i, "批量", "批量", vec=v, fields=["化工"] if i % 2 else []) for i, v in vecs.items()])
    got = reader.get_vectors([f"problem:{i}" for i in vecs])
    assert len(got) == 300
    for i, v in vecs.items():
        assert got[f"problem:{i}"] == pytest.approx(unit(v), abs=1e-6)
    hits = reader.vector_search(unit(vecs[101]), Filters(fields=["化工"]), 500)
    assert len(hits) == 150 and keys(hits)[0] == "problem:101"
    reader.close()


def test_dense_first_stage_rescored_exactly_and_incremental(tmp_path, monkeypatch):
    """Embedded: past ANN_MIN_ROWS the writer trains an IVF; a reader loads it, its hits carry
    the exact cosines (re-scored from the float32 rows), agree with the exact top-10, honour
    the filters, and a listing written afterwards is found without retraining."""
    from indexes.backends import embedded as E

    monkeypatch.setattr(E, "ANN_MIN_ROWS", 1000)
    monkeypatch.setattr(E, "EXACT_MAX", 100)
    rng = np.random.default_rng(7)
    vecs = rng.standard_normal((3000, DIM)).astype(np.float32)
    be = E.EmbeddedBackend(tmp_path / "idx", DIM)
    for i in range(0, 3000, 1000):
        be.upsert([doc("achievement", j, "标题", "正文", vec=vecs[j], fields=["化工"] if j % 2 else ["环保"])
                   for j in range(i, i + 1000)])
    reader = E.EmbeddedBackend(tmp_path / "idx", DIM)
    assert reader.count() == 3000
    exact = {f"achievement:{j}": unit(vecs[j]) for j in range(3000)}
    found = 0
    for _ in range(20):
        q = unit(rng.standard_normal(DIM).astype(np.float32))
        hits = reader.vector_search(q, Filters(), 10)
        truth = sorted(exact, key=lambda k: -float(exact[k] @ q))[:10]
        found += len(set(keys(hits)) & set(truth))
        for k, score in hits:
            assert score == pytest.approx(float(exact[k] @ q), abs=1e-5)
        assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
        odd = reader.vector_search(q, Filters(fields=["化工"]), 10)
        assert len(odd) == 10 and all(int(k.split(":")[1]) % 2 for k in keys(odd))
    assert found / 200 >= 0.9
    ann = reader.v.ann
    assert ann is not None and ann.ntotal == 3000
    new = unit(rng.standard_normal(DIM).astype(np.float32))
    be.upsert([doc("achievement", 5000, "新增", "新增", vec=new)])
    assert keys(reader.vector_search(new, Filters(), 1)) == ["achievement:5000"]
    assert reader.v.ann is ann and ann.ntotal == 3001  # added to the reader's copy, not retrained
    be.upsert([doc("achievement", 5000, "新增", "新增", vec=-new)])  # updated: old vector gone
    assert "achievement:5000" not in keys(reader.vector_search(new, Filters(), 10))
    be.delete(["achievement:5000"])
    assert "achievement:5000" not in keys(reader.vector_search(-new, Filters(), 10))
    reader.close()
    be.close()


def test_first_touch_from_two_threads_opens_one_version(tmp_path):
    """A hybrid search reads BM25 in a pool thread while the dense scan runs in the caller's
    thread: on a fresh index both touch the version at once. They must share one opened
    version (two racing openings failed in CI with "database is locked")."""
    import threading

    from indexes.backends.embedded import EmbeddedBackend

    for attempt in range(5):
        be = EmbeddedBackend(tmp_path / f"idx{attempt}", DIM)
        start, got, errors = threading.Barrier(6), [], []

        def touch():
            start.wait()
            try:
                got.append(be.v)
            except Exception as exc:  # noqa: BLE001 - the test reports any failure
                errors.append(exc)

        threads = [threading.Thread(target=touch) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert len({id(v) for v in got}) == 1


def test_keyword_filters_with_one_and_several_values(be):
    """The keyword side applies the same filters as the dense side, for one value and for several."""
    g = [["电池"], ["废水"], ["正极"]]
    assert set(keys(be.keyword_search(g, Filters(), 10))) == {"achievement:1", "achievement:2", "achievement:3",
                                                              "problem:4"}
    assert set(keys(be.keyword_search(g, Filters(kind="problem"), 10))) == {"problem:4"}
    assert set(keys(be.keyword_search(g, Filters(fields=["环保"]), 10))) == {"achievement:2", "achievement:3"}
    assert set(keys(be.keyword_search(g, Filters(fields=["环保", "新能源"], kind="achievement"), 10))) == \
        {"achievement:1", "achievement:2", "achievement:3"}
    assert set(keys(be.keyword_search(g, Filters(maturity=["industrial"]), 10))) == {"achievement:2", "achievement:3"}
    assert set(keys(be.keyword_search(g, Filters(maturity=["industrial", "pilot"], kind="achievement"), 10))) == \
        {"achievement:1", "achievement:2", "achievement:3"}
    assert set(keys(be.keyword_search(g, Filters(modes=["license", "development"]), 10))) == \
        {"achievement:1", "problem:4"}
    assert set(keys(be.keyword_search(g, Filters(modes=["transfer"]), 10))) == {"achievement:2"}


def test_first_stage_nprobe_is_calibrated_on_the_index_own_vectors(tmp_path, monkeypatch):
    """The IVF's nprobe is measured when it is trained, not taken from a constant: on vectors
    where visiting one list finds a third of the true neighbours, the writer records the
    nprobe that reaches the recall target on a sample of its own rows, readers use it, and
    queries the index has never seen get that recall too."""
    from indexes.backends import embedded as E

    monkeypatch.setattr(E, "ANN_MIN_ROWS", 1000)
    monkeypatch.setattr(E, "EXACT_MAX", 100)
    monkeypatch.setattr(E, "NPROBE", 1)          # what an uncalibrated index would visit
    rng = np.random.default_rng(11)
    vecs = rng.standard_normal((3000, DIM)).astype(np.float32)   # no cluster structure: hard for IVF
    be = E.EmbeddedBackend(tmp_path / "idx", DIM)
    for i in range(0, 3000, 1000):
        be.upsert([doc("achievement", j, "标题", "正文", vec=vecs[j]) for j in range(i, i + 1000)])
    meta = json.loads(be.v.db.execute("SELECT v FROM meta WHERE k='ann'").fetchone()[0])
    cal = meta["calibration"]
    assert cal["queries"] == E.CALIBRATION_QUERIES and cal["recall_at_10"] >= E.RECALL_TARGET
    assert 1 < meta["nprobe"] <= meta["nlist"]
    reader = E.EmbeddedBackend(tmp_path / "idx", DIM)
    reader.vector_search(unit(vecs[0]), Filters(), 1)       # a first query loads the IVF
    assert reader.v.ann is not None and reader.v.ann_nprobe == meta["nprobe"]
    exact = np.stack([unit(v) for v in vecs])

    def recall(r):
        found = 0
        for _ in range(40):
            q = unit(rng.standard_normal(DIM).astype(np.float32))
            truth = {f"achievement:{j}" for j in np.argsort(-(exact @ q))[:10]}
            found += len(truth & set(keys(r.vector_search(q, Filters(), 10))))
        return found / 400

    assert recall(reader) >= 0.95
    reader.v.ann_nprobe = 1                      # the same index with the uncalibrated constant
    assert recall(reader) < 0.8
    reader.close()
    be.close()


def test_an_index_trained_before_calibration_uses_the_default_nprobe(tmp_path, monkeypatch):
    from indexes.backends import embedded as E

    monkeypatch.setattr(E, "ANN_MIN_ROWS", 200)
    monkeypatch.setattr(E, "EXACT_MAX", 10)
    rng = np.random.default_rng(5)
    be = E.EmbeddedBackend(tmp_path / "idx", DIM)
    be.upsert([doc("achievement", j, "标题", "正文", vec=rng.standard_normal(DIM).astype(np.float32))
               for j in range(300)])
    d = json.loads(be.v.db.execute("SELECT v FROM meta WHERE k='ann'").fetchone()[0])
    for k in ("nprobe", "calibration"):
        d.pop(k)
    be.v.db.execute("UPDATE meta SET v=? WHERE k='ann'", (json.dumps(d),))
    be.v.db.commit()
    reader = E.EmbeddedBackend(tmp_path / "idx", DIM)
    assert len(reader.vector_search(unit(rng.standard_normal(DIM).astype(np.float32)), Filters(), 5)) == 5
    assert reader.v.ann_nprobe == E.NPROBE
    reader.close()
    be.close()


def test_calibration_stops_where_more_lists_no_longer_help():
    """When recall levels off below the target (the 8-bit codes, not the unvisited lists,
    lose the last neighbours), calibration keeps the nprobe where it levelled off instead of
    scanning every list."""
    from indexes.backends import embedded as E

    rng = np.random.default_rng(2)
    vecs = np.stack([unit(v) for v in rng.standard_normal((400, DIM)).astype(np.float32)])
    rows = np.arange(400)
    truth = {}

    class FakeIVF:                       # finds a share of the true neighbours set by nprobe
        nlist = 200

        def search(self, Q, kc, params):
            share = min(0.9, 0.3 + 0.05 * params.nprobe)   # 0.9 from nprobe 12 on
            out = np.full((len(Q), kc), -1, np.int64)
            for i, q in enumerate(Q):
                if i not in truth:
                    order = np.argsort(-(vecs @ q))
                    truth[i] = order[1:11]                  # order[0] is the query's own row
                out[i, :int(round(10 * share))] = truth[i][:int(round(10 * share))]
            return None, out

    cal = E.calibrate_nprobe(FakeIVF(), vecs, rows, queries=50)
    assert cal["plateau"] and cal["nprobe"] == 12 and cal["recall_at_10"] == 0.9
    low = E.calibrate_nprobe(FakeIVF(), vecs, rows, queries=50, target=0.7)   # reached at nprobe 8
    assert low["nprobe"] == 8 and not low["plateau"]
