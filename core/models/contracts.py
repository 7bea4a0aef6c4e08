"""Technology contracts, indicator targets and events (contracts issue). Filled in by that work."""
__all__: list[str] = []
