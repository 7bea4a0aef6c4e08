"""Celery tasks of the matcher package (registered in core.celery_app.TASK_MODULES)."""
