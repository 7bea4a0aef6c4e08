"""Celery tasks of the indexes package (registered in core.celery_app.TASK_MODULES)."""
