"""techmatch domain package: models, storage, settings, services and the Celery app."""
