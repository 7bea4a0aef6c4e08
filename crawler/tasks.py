"""Celery tasks of the crawler package (registered in core.celery_app.TASK_MODULES)."""
