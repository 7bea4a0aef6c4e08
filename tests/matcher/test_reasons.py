"""Reason texts a broker and an enterprise read (pure functions, no database)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from matcher import explain as X
from matcher import features as F
from matcher.features import Profile

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)


def pair(price="450000", lo="600000", hi="1800000"):
    p = Profile(kind="problem", id=1, org_id=1, title="需求", region="330421", modes=["license"],
                budget_min=Decimal(lo) if lo else None, budget_max=Decimal(hi) if hi else None)
    a = Profile(kind="achievement", id=2, org_id=2, title="成果", region="330421", modes=["license"],
                price=Decimal(price) if price else None, published_at=NOW - timedelta(days=30))
    return p, a


def budget_text(p, a, cos=0.9):
    feats = F.pair_features(p, a, cos=cos, bm25=5.0, now=NOW)
    return next(i for i in X.items(p, a, feats, cos, []) if i["key"] == "budget")


def test_price_below_the_budget_range_is_not_called_within_it():
    it = budget_text(*pair("450000", "600000", "1800000"))
    assert "之内" not in it["text"]
    assert it["text"] == "报价45.00万元，低于预算下限60.00万元"
    assert it["level"] == "good"


def test_price_inside_and_above_the_budget_range():
    assert budget_text(*pair("900000"))["text"] == "报价90.00万元，在预算60.00万元–180.00万元之内"
    above = budget_text(*pair("2700000"))
    assert above["text"].startswith("报价270.00万元，超出预算上限180.00万元") and above["level"] == "fair"


def test_semantic_reason_is_a_plain_level_without_the_raw_cosine():
    p, a = pair()
    feats = F.pair_features(p, a, cos=0.92, bm25=5.0, now=NOW)
    sem = next(i for i in X.items(p, a, feats, 0.92, []) if i["key"] == "semantic")
    assert "0.92" not in sem["text"] and "相似度" not in sem["text"]
    assert sem["text"] == "需求描述与成果内容高度相关" and sem["value"] == 0.92


def test_shared_terms_drop_numbers_units_and_generic_verbs():
    p = "我厂生产涤纶FDY长丝，要求80mg以内的添加量，粒径d10小于5cm3，保持强度，染色均匀。"
    a = "涤纶FDY长丝的染色工艺：添加80mg助剂，d10为5cm3，强度保持率高。"
    terms = X.shared_terms(p, a)
    assert "涤纶FDY" in terms or ("涤纶" in terms and "FDY" in terms)
    assert "染色" in terms
    for noise in ("80mg", "d10", "cm3", "5cm3", "保持", "涤纶fdy", "fdy"):
        assert noise not in terms, noise


def test_key_term_filter_keeps_specific_words():
    assert X.is_key_term("吸附") and X.is_key_term("发酵") and X.is_key_term("污水")
    assert not X.is_key_term("保持") and not X.is_key_term("提高") and not X.is_key_term("cm3")
    assert X.surface_form("涤纶fdy", "采用涤纶FDY长丝") == "涤纶FDY"


def test_one_vocabulary_for_modes_across_screens():
    from core.listings.vocab import CoopMode, TransferMode

    assert CoopMode.license.label == TransferMode.license.label == "技术许可"
    assert CoopMode.transfer.label == TransferMode.transfer.label == "技术转让"
    assert CoopMode.joint_rd.label == TransferMode.joint_development.label == "合作开发"
    assert CoopMode.equity.label == TransferMode.equity.label == "作价投资"
    # the older labels are still read (imports, API input)
    assert TransferMode.from_label("许可") is TransferMode.license
    assert CoopMode.from_label("合作研发") is CoopMode.joint_rd
    assert CoopMode.from_label("作价入股") is CoopMode.equity
    labels = [m.label for m in TransferMode]
    assert len(labels) == len(set(labels))
