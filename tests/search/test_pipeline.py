"""Index pipeline against the real database (SQLite and PostgreSQL via the root `db` fixture):
listing create / update / delete -> techmatch.index_listing (in-process Celery) -> index."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import update


@pytest.fixture(autouse=True)
def svc(settings, emb_cache, analyzer):
    """The app's own service (settings-scoped), sharing the test session's embedding cache
    and analyzer so that each test text is encoded once per run, not once per test."""
    from indexes.service import get_search_service

    s = get_search_service()
    s.cache, s._embedder, s.analyzer = emb_cache, None, analyzer
    return s


def ids(res):
    return [h.id for h in res.hits]


def test_create_update_delete_reach_the_index(db, factory, svc):
    from core.listings import service as listings
    from core.listings.schemas import AchievementUpdate

    uni = factory.user("university")
    a = factory.achievement(uni, title="石墨烯导热膜低成本制备技术",
                            abstract="以氧化石墨烯为原料涂布还原压延，制得高导热膜，用于手机散热。")
    assert ids(svc.search("石墨烯", mode="keyword")) == [str(a.id)]

    listings.update(db, uni, "achievement", a.id, AchievementUpdate(title="碳纤维复合材料热压成型工艺"))
    db.commit()
    res = svc.search("碳纤维", mode="keyword")
    assert ids(res) == [str(a.id)] and "<em>碳纤维</em>" in res.hits[0].title

    draft = factory.achievement(uni, publish=False, title="钠离子电池硬碳负极材料",
                                abstract="硬碳负极首次库伦效率达到百分之九十，成本低于石墨负极。")
    assert svc.search("硬碳负极", mode="keyword").hits == []
    assert ids(svc.search("硬碳负极", mode="keyword", published_only=False)) == [str(draft.id)]
    listings.delete(db, uni, "achievement", draft.id)
    db.commit()
    assert svc.search("硬碳负极", mode="keyword", published_only=False).hits == []
    assert f"achievement:{draft.id}" not in svc.backend.hashes()


def test_attachment_text_is_indexed(db, factory, svc):
    from core.attachments import service as attachments

    uni = factory.user("university")
    a = factory.achievement(uni)
    attachments.add(db, uni, "achievement", a.id, "说明.txt",
                    "附件说明：本技术还可用于钙钛矿光伏组件的封装。".encode("utf-8"))
    db.commit()
    assert ids(svc.search("钙钛矿", mode="keyword")) == [str(a.id)]


def test_reindex_and_index_check(db, factory, svc):
    from core.models import Achievement

    uni = factory.user("university")
    ent = factory.user("enterprise")
    a = factory.achievement(uni)
    p = factory.problem(ent)
    stats = svc.reindex(db)
    assert stats["listings"] == 2 and stats["written"] == 0 and stats["encoded_chunks"] == 0
    stats = svc.reindex(db, full=True)
    assert stats["written"] == 2 and stats["encoded_chunks"] == 0
    assert ids(svc.search("正极", mode="keyword", kind="problem")) == [str(p.id)]

    # drift: a row changed behind the hooks' back, one doc lost, one orphan
    db.execute(update(Achievement).where(Achievement.id == a.id).values(title="全新的标题：光纤光栅解调仪"))
    db.commit()
    svc.backend.delete([f"problem:{p.id}"])
    from indexes.backends.base import IndexDoc
    svc.backend.upsert([IndexDoc(kind="achievement", id="999", title="孤儿", text="", content_hash="x")])
    report = svc.index_check(db, repair=False)
    assert report["missing"] == [f"problem:{p.id}"]
    assert report["stale"] == [f"achievement:{a.id}"]
    assert report["orphans"] == ["achievement:999"]
    svc.index_check(db, repair=True)
    report = svc.index_check(db, repair=False)
    assert (report["missing"], report["stale"], report["orphans"]) == ([], [], [])
    assert ids(svc.search("光纤光栅", mode="keyword")) == [str(a.id)]


def test_task_is_idempotent(db, factory, svc):
    from indexes.tasks import index_listing

    uni = factory.user("university")
    a = factory.achievement(uni)
    assert index_listing.apply(args=("achievement", a.id)).get() == "unchanged"
    assert index_listing.apply(args=("achievement", 123456)).get() == "deleted"
    assert index_listing.apply(args=("achievement", 123456)).get() == "deleted"


def test_cli_commands(db, factory, settings, tmp_path):
    from typer.testing import CliRunner

    from core import cli

    cli._load_plugins()
    uni = factory.user("university")
    factory.achievement(uni)
    runner = CliRunner()
    r = runner.invoke(cli.app, ["reindex"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output.strip().splitlines()[-1])["listings"] == 1
    r = runner.invoke(cli.app, ["index-check", "--no-repair"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["summary"]["ok"] == 1
    corpus = tmp_path / "c.jsonl"
    queries = tmp_path / "q.jsonl"
    corpus.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"id": "a", "title": "石墨烯导热膜", "body": "氧化石墨烯涂布还原压延制得导热膜"},
        {"id": "b", "title": "养殖废水处理", "body": "厌氧反应器处理养殖废水"},
        {"id": "c", "title": "激光焊接", "body": "厚板窄间隙激光焊接工艺"}]))
    queries.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"id": "q1", "text": "手机散热膜", "relevant": ["a"]},
        {"id": "q2", "text": "养猪场污水", "relevant": {"b": 2}}]))
    r = runner.invoke(cli.app, ["eval", "search", "--corpus", str(corpus), "--queries", str(queries)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    for mode in ("keyword", "semantic", "hybrid"):
        assert set(out[mode]) >= {"MRR@10", "Recall@10", "Recall@50", "nDCG@10"}
    assert out["semantic"]["MRR@10"] == 1.0


def test_api_search(client, factory, login):
    uni = factory.user("university")
    a = factory.achievement(uni)
    draft = factory.achievement(uni, publish=False, title="草稿成果：钠离子电池负极")
    r = client.get("/api/search", params={"q": "正极材料", "kind": "achievement", "mode": "hybrid"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hits"][0]["id"] == str(a.id) and "<em>" in body["hits"][0]["title"]
    assert body["facets"]["kind"] == {"achievement": 1}
    assert str(draft.id) not in [h["id"] for h in body["hits"]]
    staff = factory.user("bureau")
    r = client.get("/api/search", params={"q": "钠离子电池", "mode": "keyword"}, headers=login(staff))
    assert str(draft.id) in [h["id"] for h in r.json()["hits"]]
    r = client.get("/api/search", params={"q": "正极", "region": "33", "field": "新能源", "page": 2})
    assert r.status_code == 200 and r.json()["hits"] == []
    assert client.get("/api/search", params={"q": "x", "mode": "bogus"}).status_code in (400, 422)


def test_search_without_query_lists_newest(client, factory, login):
    """The search page and the API, before anything is typed: every visible listing the
    filters admit, newest first, with the exact total (not an empty page)."""
    uni = factory.user("university")
    ent = factory.user("enterprise")
    a = factory.achievement(uni, title="高镍正极材料包覆技术")
    p = factory.problem(ent, title="印染废水色度难以达标")
    factory.achievement(uni, publish=False, title="草稿成果：钠离子电池负极")
    body = client.get("/api/search").json()
    assert body["order"] == "newest" and body["total"] == 2
    assert [h["id"] for h in body["hits"]] == [str(p.id), str(a.id)]  # the problem was published last
    assert body["facets"]["kind"] == {"achievement": 1, "problem": 1}
    body = client.get("/api/search", params={"kind": "achievement"}).json()
    assert (body["total"], [h["id"] for h in body["hits"]]) == (1, [str(a.id)])
    staff = factory.user("bureau")
    assert client.get("/api/search", headers=login(staff)).json()["total"] == 3
    page = client.get("/search").text
    assert "共 2 条，按发布时间排列" in page and "高镍正极材料包覆技术" in page and "草稿成果" not in page
    page = client.get("/search", params={"kind": "problem"}).text
    assert "共 1 条" in page and "印染废水色度难以达标" in page and "高镍正极材料包覆技术" not in page
    page = client.get("/search", params={"q": "正极材料"}).text
    assert "最相关的" in page and "高镍" in page
    assert "暂无符合条件的信息" in client.get("/search", params={"region": "11"}).text


def test_date_filters_use_beijing_days(client, db, factory, svc):
    """created_from / created_to are calendar days in Beijing time: a listing published at
    00:30 on 2 March in Beijing (16:30 UTC on 1 March) belongs to 2 March."""
    from datetime import datetime, timezone

    from core.db import local_day_bounds

    uni = factory.user("university")
    a = factory.achievement(uni, title="低温等离子体表面改性技术")
    a.created_at = datetime(2026, 3, 1, 16, 30, tzinfo=timezone.utc)
    db.commit()
    svc.index_listing(db, "achievement", a.id)

    def found(**days):
        return str(a.id) in [h["id"] for h in client.get("/api/search", params=days).json()["hits"]]

    assert found(created_from="2026-03-02", created_to="2026-03-02")
    assert not found(created_to="2026-03-01") and not found(created_from="2026-03-03")
    assert local_day_bounds(None, None) == (None, None)
    assert local_day_bounds(datetime(2026, 3, 2).date(), None)[0] == datetime(
        2026, 3, 1, 16, 0, tzinfo=timezone.utc).timestamp()
