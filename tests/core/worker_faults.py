"""Fault injection for the worker-kill test, loaded into the real worker with ``-I``: while
the file named by TECHMATCH_TEST_HOLD exists, a task that starts writes its name to
TECHMATCH_TEST_STARTED and waits, so that the test can kill the worker mid-task at a
known point. Without those variables it does nothing."""
from __future__ import annotations

import os
import time
from pathlib import Path

from celery.signals import task_prerun


@task_prerun.connect
def _hold(sender=None, task_id=None, task=None, args=None, **_):
    hold, started = os.environ.get("TECHMATCH_TEST_HOLD"), os.environ.get("TECHMATCH_TEST_STARTED")
    if not hold or not started or not Path(hold).exists():
        return
    with open(started, "a") as f:
        f.write(f"{task.name} {list(args or [])}\n")
    while Path(hold).exists():
        time.sleep(0.1)
