"""Settings access for indexes/: thin re-export of core.settings."""
from core.settings import Settings, configure, get_settings, settings_cache  # noqa: F401
