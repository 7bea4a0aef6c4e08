"""The demo ships its proposals ready (core/demo/data/proposals.json): they must be the ones
the matcher computes from the shipped demo data, and loading them must give the demo its queue."""
from __future__ import annotations

import json

from matcher import demo


def test_shipped_proposals_are_current():
    doc = json.loads(demo.SEED.read_text(encoding="utf-8"))
    assert doc["inputs"] == demo.inputs_fingerprint(), (
        "core/demo/data/proposals.json is stale: the demo data, the scoring model or the matcher "
        "changed since it was built; rebuild it as matcher/demo.py explains")
    assert not demo.deadline_passed_since(doc["computed_on"]), "a demo deadline passed: rebuild the seed"
    ids = set(demo._demo_ids().values())
    assert doc["proposals"]
    for r in doc["proposals"]:
        assert r["problem"] in ids and r["achievement"] in ids
        assert 0 < r["score"] <= 1 and r["reasons"]


def test_fingerprint_follows_the_inputs(tmp_path, monkeypatch):
    before = demo.inputs_fingerprint()
    (tmp_path / "core" / "demo" / "data").mkdir(parents=True)
    monkeypatch.setattr(demo, "ROOT", tmp_path)
    empty = demo.inputs_fingerprint()
    (tmp_path / "core" / "demo" / "data" / "problems_g9.jsonl").write_text("{}\n", encoding="utf-8")
    assert len({before, empty, demo.inputs_fingerprint()}) == 3


def test_seed_is_stale_once_a_demo_deadline_passed():
    from datetime import date

    assert not demo.deadline_passed_since("2026-12-01", date(2026, 12, 20))
    assert demo.deadline_passed_since("2026-12-01", date(2027, 2, 1))  # G3P-03 ends 2027-01-31
    assert demo.deadline_passed_since(None)


def test_stale_seed_is_not_used(tmp_path):
    path = tmp_path / "proposals.json"
    path.write_text(json.dumps({"inputs": "0" * 64, "proposals": [{"problem": "x"}]}), encoding="utf-8")
    assert demo.read_seed(path) is None
    path.write_text(json.dumps({"inputs": demo.inputs_fingerprint(), "computed_on": "2026-12-01",
                                "proposals": []}), encoding="utf-8")
    assert demo.read_seed(path) == []


def test_loading_the_shipped_proposals(settings):
    import io

    from rich.console import Console
    from sqlalchemy import func, select

    from core import hooks
    from core.db import session_scope
    from core.demo import loader
    from core.models import Match

    with session_scope() as s:
        keys = loader.load_orgs_and_users(s)
        hooks.suppress(s)
        loader.load_listings(s, keys)
    rows = demo.read_seed()
    assert rows, "stale or missing seed"
    console = Console(file=io.StringIO())
    assert demo.load_seed(console, rows) == {"proposals_loaded": len(rows), "created": len(rows)}
    assert "载入撮合推荐" in console.file.getvalue()
    assert demo.load_seed(console, rows)["created"] == 0  # idempotent
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Match)) == len(rows)
        assert set(s.scalars(select(Match.status))) == {"proposed"}
        m = s.scalars(select(Match)).first()
        fresh = next(i["text"] for i in m.reasons["items"] if i["key"] == "freshness")
        assert fresh.startswith(f"成果发布于{m.achievement.published_at.date().isoformat()}")
