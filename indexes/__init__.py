"""Search: Chinese analysis, embeddings, embedded/Elasticsearch backends, hybrid fusion.

Entry point for callers (API, web pages, matcher): :func:`indexes.service.get_search_service`.
"""
