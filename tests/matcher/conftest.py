"""Fixtures for matcher tests: a few orgs and users, small listings with real text."""
from __future__ import annotations

from decimal import Decimal

import pytest


@pytest.fixture(scope="session")
def _shared_search_state(tmp_path_factory):
    """One jieba analyzer and one embedding cache for all matcher tests: every test gets a fresh
    data dir (and so a fresh index), but the same text is not encoded twice."""
    from indexes.analysis import Analyzer

    root = tmp_path_factory.mktemp("matcher-shared")
    return {"analyzer": Analyzer(root / "jieba"), "cache": root / "embeddings.sqlite"}


@pytest.fixture(autouse=True)
def _fast_search(request, monkeypatch, _shared_search_state):
    if "settings" not in request.fixturenames:
        yield
        return
    import indexes.analysis
    import indexes.service
    from indexes.encoders import EmbeddingCache

    shared = _shared_search_state
    monkeypatch.setattr(indexes.service, "get_analyzer", lambda cache_dir=None: shared["analyzer"])
    monkeypatch.setattr(indexes.analysis, "get_analyzer", lambda cache_dir=None: shared["analyzer"])
    monkeypatch.setattr(indexes.service, "EmbeddingCache", lambda path: EmbeddingCache(shared["cache"]))
    # The calibrated threshold (a probability) assumes a realistic candidate pool; with three
    # fixture achievements the pool-relative retrieval feature is compressed, so these tests
    # propose from a low threshold (the threshold is a setting).
    request.getfixturevalue("settings").match_threshold = 0.02
    yield


@pytest.fixture
def people(factory):
    ent = factory.user("enterprise", org=factory.org("enterprise", region="330421", name="平湖锂想新能源"))
    uni = factory.user("university", org=factory.org("university", region="330106", name="浙北理工大学"))
    uni2 = factory.user("university", org=factory.org("university", region="320102", name="江南食品研究院"))
    broker = factory.user("broker", name="经纪人甲")
    broker2 = factory.user("broker", name="经纪人乙")
    bureau = factory.user("bureau", name="科技局")
    other_ent = factory.user("enterprise", org=factory.org("enterprise", region="330402", name="嘉兴织造"))
    return dict(ent=ent, uni=uni, uni2=uni2, broker=broker, broker2=broker2, bureau=bureau, other_ent=other_ent)


ACHIEVEMENTS = [
    dict(title="高镍三元正极材料表面包覆改性技术", fields=["新能源"], region="330106",
         abstract="通过原子层沉积氧化铝包覆，使高镍三元正极材料循环 1000 次容量保持率达 90% 以上，抑制高温产气。",
         maturity="pilot", trl=6, transfer_modes=["license"], asking_price=Decimal("400000"),
         keywords=["正极材料", "包覆改性", "循环寿命"]),
    dict(title="果蔬低温等离子体保鲜技术", fields=["食品加工"], region="320102",
         abstract="利用低温等离子体对果蔬表面杀菌，延长草莓、杨梅货架期 5 天以上，无化学残留。",
         maturity="small_pilot", trl=4, transfer_modes=["transfer"], asking_price=Decimal("300000"),
         keywords=["保鲜", "等离子体"]),
    dict(title="印染废水高级氧化深度处理工艺", fields=["节能环保"], region="330106",
         abstract="臭氧催化氧化耦合生物滤池，印染废水 COD 降至 50 mg/L 以下，运行成本降低 30%。",
         maturity="industrial", trl=8, transfer_modes=["service", "license"], asking_price=Decimal("600000"),
         keywords=["印染废水", "臭氧催化氧化"]),
]

PROBLEM = dict(title="三元锂电池正极循环寿命短、高温胀气", fields=["新能源"], region="330421",
               description="我公司生产的三元正极材料做成电池后循环 500 次容量只剩不到 80%，夏天高温存放还会胀气，"
                           "希望找到正极材料包覆或掺杂改性的技术来延长循环寿命。",
               budget_min=Decimal("100000"), budget_max=Decimal("500000"), coop_modes=["license", "development"],
               required_maturity="pilot")


@pytest.fixture
def listings_set(factory, people):
    achs = [factory.achievement(people["uni2"] if "保鲜" in a["title"] else people["uni"], **a)
            for a in ACHIEVEMENTS]
    return achs
