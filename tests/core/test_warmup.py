"""The server's warm-up loads what the first search needs, the index included."""
from __future__ import annotations


def test_warm_up_opens_the_index_for_the_first_search(db, factory, monkeypatch):
    import indexes.service as S
    from api.warmup import warm_up
    from core.settings import get_settings

    factory.achievement(factory.user("university"))      # indexed by the (eager) task
    fresh = S.build_service(get_settings())               # a web process that has searched nothing yet
    assert fresh.backend._v is None
    monkeypatch.setattr(S, "get_search_service", lambda: fresh)
    warm_up()
    v = fresh.backend._v
    assert v is not None and v.n >= 1 and v.alive[:v.n].any()   # the rows' filter arrays are loaded
    assert v._searcher is not None                                # and the keyword searcher is open
