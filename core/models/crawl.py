"""Crawl runs and provenance (crawler issue). Filled in by that work."""
__all__: list[str] = []
