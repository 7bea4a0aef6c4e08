"""Reasons for a proposal, in Chinese: what a broker reads in five seconds.

``reasons`` (stored as JSON on the Match) has:

* ``summary``   one line: the strongest reasons joined by "；"
* ``terms``     shared key terms (most specific first)
* ``highlight`` both titles, HTML-escaped, shared terms wrapped in ``<em>``
* ``items``     one entry per aspect: ``{"key", "label", "level": good|fair|bad|unknown, "text"}``
                for 语义, 关键词, 领域, 地域, 成熟度, 合作方式, 价格/预算, 时效
* ``evidence``  the best snippet of each side, highlighted
"""
from __future__ import annotations

import functools
import re

import jieba.analyse

from core import regions
from core.listings.vocab import MATURITY_ORDER, CoopMode, Maturity, TransferMode
from core.money import format_wan
from indexes.analysis import get_analyzer, highlight, normalize, normalize_aligned, snippet
from matcher import features as F
from matcher.features import Profile

_DIGITS = re.compile(r"^[\d.%]+$")
#: a Latin token with a digit in it is a quantity, a unit or a grade (cm3, d10, 80mg, 3d), not a key term
_MEASURE = re.compile(r"^(?=.*\d)[0-9a-z.%+\-/]+$")
#: parts of speech of generic words (verbs, adverbs, pronouns, numerals, quantifiers, ...): such a
#: word is a key term only when it is specific (jieba IDF at least GENERIC_IDF: 吸附, 发酵 are; 保持,
#: 提高, 采用 are not)
_GENERIC_POS = ("v", "vd", "d", "ad", "a", "r", "m", "q", "p", "c", "u", "f", "t")
GENERIC_IDF = 7.0
MAX_TERMS = 8
MAX_CHARS = 2000  # text analysed for shared terms (title, first part of the text, keywords)


@functools.lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:

    t = jieba.analyse.TFIDF()
    return t.idf_freq, t.median_idf


def _analyzer():

    return get_analyzer()


@functools.lru_cache(maxsize=8192)
def _terms(text: str) -> tuple[str, ...]:
    """Search-mode tokens of a text, without 1-char tokens and numbers (cached: a listing's
    text is analysed once for all of its candidates)."""
    return tuple(t for t in _analyzer().tokens(text[:MAX_CHARS]) if not _DIGITS.match(t))


@functools.lru_cache(maxsize=8192)
def is_key_term(term: str) -> bool:
    """False for noise: quantities and units (cm3, d10, 80mg) and generic words (保持, 提高)."""
    if len(term) < 2 or _MEASURE.match(term):
        return False
    idf, median = _idf()
    if idf.get(term, median) >= GENERIC_IDF:
        return True
    import jieba.posseg

    pairs = jieba.posseg.lcut(term)
    return not (len(pairs) == 1 and pairs[0].flag in _GENERIC_POS)


def surface_form(term: str, *texts: str) -> str:
    """The term as it is written in the first text that contains it (search terms are
    normalised, lowercased: 涤纶fdy is shown as 涤纶FDY when the listing writes it so)."""
    for text in texts:
        i = normalize_aligned(text).find(term)
        if i >= 0:
            return text[i:i + len(term)]
    return term


def shared_terms(p_text: str, a_text: str, limit: int = MAX_TERMS) -> list[str]:
    idf, median = _idf()
    common = {t for t in _terms(p_text) if is_key_term(t)} & set(_terms(a_text))
    # keep the longest form: drop a term contained in another shared term
    common = {t for t in common if not any(t != o and t in o for o in common)}
    ranked = sorted(common, key=lambda t: (-idf.get(t, median * 1.2) * (1 + 0.1 * len(t)), t))[:limit]
    return [surface_form(t, p_text, a_text) for t in ranked]


def _level(x: float) -> str:
    return "good" if x >= 0.75 else "fair" if x >= 0.45 else "bad"


def items(p: Profile, a: Profile, feats: dict[str, float], cos: float | None, terms: list[str]) -> list[dict]:
    out = []
    # semantic
    s = feats["semantic"]
    # a plain-language level, never the raw cosine (it means nothing to an enterprise; the
    # number stays in ``value`` for staff and debugging)
    word = "高度相关" if s >= 0.75 else "较为相关" if s >= 0.45 else "相关性一般"
    out.append({"key": "semantic", "label": "语义", "level": _level(s),
                "text": f"需求描述与成果内容{word}" if cos is not None else "缺少语义向量",
                "value": None if cos is None else round(float(cos), 3)})
    # keyword
    k = feats["keyword"]
    if terms:
        out.append({"key": "keyword", "label": "关键词", "level": "good" if k >= 0.5 or len(terms) >= 3 else "fair",
                    "text": "共同关键词：" + "、".join(terms[:5])})
    else:
        out.append({"key": "keyword", "label": "关键词", "level": "bad", "text": "没有共同关键词，主要依据语义相似"})
    # field
    pf, af = F._real_fields(p.fields), F._real_fields(a.fields)
    if not pf or not af:
        out.append({"key": "field", "label": "领域", "level": "unknown", "text": "一方未注明技术领域"})
    elif pf & af:
        out.append({"key": "field", "label": "领域", "level": "good", "text": "领域一致：" + "、".join(sorted(pf & af))})
    else:
        out.append({"key": "field", "label": "领域", "level": "bad",
                    "text": f"领域不同：需求属于{'、'.join(sorted(pf))}，成果属于{'、'.join(sorted(af))}"})
    # region
    lv = F.region_level(p.region, a.region)
    if lv == "county":
        text = f"同在{regions.full_name(p.region)}"
    elif lv == "city":
        text = f"同在{regions.full_name(regions.city_of(p.region))}"
    elif lv == "province":
        text = f"同在{regions.name(regions.province_of(p.region))}（需求在{regions.name(p.region)}，成果在{regions.name(a.region)}）"
    else:
        text = f"跨省对接：需求在{regions.full_name(p.region) or '未知'}，成果在{regions.full_name(a.region) or '未知'}"
    out.append({"key": "region", "label": "地域", "level": {"county": "good", "city": "good", "province": "fair"}.get(lv, "fair"),
                "text": text})
    # maturity
    m = feats["maturity"]
    have = Maturity(a.maturity).label if a.maturity in MATURITY_ORDER else "未注明"
    if not p.maturity:
        text = f"需求未限定成熟度，成果处于{have}阶段"
    else:
        need = Maturity(p.maturity).label
        gap = MATURITY_ORDER.get(p.maturity, 0) - MATURITY_ORDER.get(a.maturity or "", 0)
        text = (f"成果处于{have}阶段，满足需求的“{need}”要求" if gap <= 0
                else f"成果处于{have}阶段，低于需求的“{need}”要求（差 {gap} 级）")
    out.append({"key": "maturity", "label": "成熟度", "level": _level(m), "text": text})
    # modes
    mv, fits = F.mode_fit(p, a)
    if not p.modes or not a.modes:
        text, lvl = "一方未注明合作方式", "unknown"
    elif fits:
        pairs = "；".join(f"{CoopMode(c).label} ↔ {TransferMode(t).label}" for c, t in fits[:3])
        text, lvl = ("合作方式匹配：" if mv >= 1 else "合作方式部分匹配：") + pairs, ("good" if mv >= 1 else "fair")
    else:
        text = f"合作方式不一致：需求希望{CoopMode.labels_of(p.modes)}，成果提供{TransferMode.labels_of(a.modes)}"
        lvl = "bad"
    out.append({"key": "mode", "label": "合作方式", "level": lvl, "text": text})
    # budget
    ceiling = p.budget_max if p.budget_max is not None else p.budget_min
    if a.price is None:
        text, lvl = "成果报价面议", "unknown"
    elif ceiling is None:
        text, lvl = f"成果报价{format_wan(a.price)}，需求未填写预算", "unknown"
    else:
        r = F.budget_ratio(p, a)
        budget = (f"{format_wan(p.budget_min)}–{format_wan(p.budget_max)}"
                  if p.budget_min is not None and p.budget_max is not None else format_wan(ceiling))
        if p.budget_min is not None and a.price < p.budget_min:
            text, lvl = f"报价{format_wan(a.price)}，低于预算下限{format_wan(p.budget_min)}", "good"
        elif r <= 1:
            text, lvl = f"报价{format_wan(a.price)}，在预算{budget}之内", "good"
        else:
            text = f"报价{format_wan(a.price)}，超出预算上限{format_wan(ceiling)}（{float(r):.1f} 倍）"
            lvl = "fair" if r <= 2 else "bad"
    out.append({"key": "budget", "label": "价格/预算", "level": lvl, "text": text})
    # freshness
    fr = feats["freshness"]
    if fr == 0.0 and p.deadline is not None:
        text = f"需求已过截止日期（{p.deadline.isoformat()}）"
    elif a.published_at is None:
        text = "成果发布时间未知"
    else:
        text = f"成果发布于{a.published_at.date().isoformat()}" + ("，较新" if fr >= 0.99 else "")
    out.append({"key": "freshness", "label": "时效", "level": _level(fr), "text": text})
    return out


def summary(item_list: list[dict]) -> str:
    order = ["semantic", "keyword", "field", "maturity", "mode", "budget", "region", "freshness"]
    by = {i["key"]: i for i in item_list}
    good = [by[k]["text"] for k in order if k in by and by[k]["level"] == "good"][:3]
    bad = [by[k]["text"] for k in order if k in by and by[k]["level"] == "bad"][:1]
    parts = good + (["注意：" + bad[0]] if bad else [])
    return "；".join(parts) if parts else "综合匹配度达到推荐标准"


def explain(p: Profile, a: Profile, feats: dict[str, float], cos: float | None,
            contributions: dict[str, float] | None = None) -> dict:

    p_text = "\n".join([p.title, " ".join(p.keywords), p.text])
    a_text = "\n".join([a.title, " ".join(a.keywords), a.text])
    terms = shared_terms(p_text, a_text)
    it = items(p, a, feats, cos, terms)
    found = [normalize(t) for t in terms]   # highlighting matches normalised text
    return {
        "summary": summary(it),
        "terms": terms,
        "highlight": {"problem_title": highlight(p.title, found), "achievement_title": highlight(a.title, found)},
        "items": it,
        "evidence": [
            {"side": "problem", "label": "需求原文", "snippet": snippet(p.text, found, 140)},
            {"side": "achievement", "label": "成果原文", "snippet": snippet(a.text, found, 140)},
        ],
        "contributions": contributions or {},
    }
