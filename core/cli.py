"""The `techmatch` command. Each package adds its own commands through `register(app, eval_app)`."""
from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer
from rich.console import Console

from core import settings as settings_mod

app = typer.Typer(help="techmatch 科技成果转化撮合平台", no_args_is_help=True, add_completion=False)
eval_app = typer.Typer(help="质量评估：检索与撮合的离线评测", no_args_is_help=True)
user_app = typer.Typer(help="账号管理", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
app.add_typer(user_app, name="user")
console = Console()

# Packages that contribute commands (reindex, index-check, match, crawl, import, eval ...).
PLUGINS = ["indexes.cli", "matcher.cli", "crawler.cli", "core.contracts.cli", "core.qualification.cli"]


def fail(message: str) -> None:
    console.print(f"[red]错误：[/red]{message}")
    raise typer.Exit(1)


@app.command()
def init() -> None:
    """创建或升级数据库与数据目录。"""
    from core import migrate

    s = settings_mod.get_settings()
    s.ensure_data_dir()
    migrate.upgrade("head")
    console.print(f"数据库已就绪：{s.resolved_database_url}")
    console.print(f"数据目录：{s.data_dir.resolve()}")


@app.command()
def demo(
    skip_index: Annotated[bool, typer.Option(help="只载入数据，不建索引、不计算撮合")] = False,
    compute_matches: Annotated[bool, typer.Option(
        help="重新计算撮合推荐（默认载入随演示数据提供的推荐，数据或撮合代码变化时自动重新计算）")] = False,
) -> None:
    """载入演示数据（单位、账号、需求、成果、合同）并建立索引与撮合推荐。"""
    from core import migrate
    from core.demo import loader

    migrate.upgrade("head")
    loader.load_all(console=console, index=not skip_index, compute_matches=compute_matches)


#: the local worker's CPU priority when ``techmatch serve`` starts it (nice 10: the web process's
#: requests take the cores first; the background work takes what they leave, and all of it when idle)
LOCAL_WORKER_NICE = 10


def _exit_on_sigterm(signum, _frame) -> None:
    raise SystemExit(128 + signum)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(
        help="监听地址（默认 127.0.0.1，即 TECHMATCH_HOST；0.0.0.0 对局域网开放）")] = None,
    port: Annotated[int | None, typer.Option(help="端口（默认 8000，即 TECHMATCH_PORT）")] = None,
    reload: Annotated[bool, typer.Option(help="代码修改后自动重启（开发用）")] = False,
    worker: Annotated[bool, typer.Option(help="未配置消息队列时，同时启动本地后台任务进程（索引、撮合、采集）")] = True,
    worker_nice: Annotated[int, typer.Option(
        help="本地后台任务进程的 CPU 优先级（nice 值，0–19，越大越让着网页请求）")] = LOCAL_WORKER_NICE,
) -> None:
    """启动网站与 API（默认 http://127.0.0.1:8000，API 文档 /api/docs）。"""
    import os
    import signal
    import subprocess

    import uvicorn

    from core.celery_app import mode

    if not 0 <= worker_nice <= 19:
        fail("--worker-nice 应在 0 到 19 之间")
    os.environ.setdefault("TECHMATCH_WARMUP", "1")  # api.warmup: load models in the background
    s = settings_mod.get_settings()
    proc = None
    if worker and mode(s) == "local":
        # background work never runs in the web process: a local worker takes it, at a lower
        # CPU priority, and it stops by itself if this process goes away without stopping it
        env = dict(os.environ)
        if worker_nice and "encoder_threads" not in s.model_fields_set:
            # one encoder thread: at a lower priority, the second OpenMP thread of each encoding
            # waits for a core the web process holds, and the whole encoding waits at its barrier
            # (bench/README.md: 1.2 encodings/s with two threads, 35 with one, beside a busy core)
            env["TECHMATCH_ENCODER_THREADS"] = "1"
        proc = subprocess.Popen([sys.executable, "-m", "core.cli", "worker", f"--nice={worker_nice}",
                                 f"--parent-pid={os.getpid()}"], env=env)
        console.print(f"后台任务进程已启动（pid {proc.pid}，nice {worker_nice}）")
    console.print(f"techmatch 运行于 http://{host or s.host}:{port or s.port}")
    # uvicorn handles SIGTERM itself, then re-raises it with the handler it found: this one, so
    # that the ``finally`` below runs and stops the worker (the default handler would end this
    # process at once and leave the worker running on its own)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        uvicorn.run("api.main:create_app", factory=True, host=host or s.host, port=port or s.port, reload=reload)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _watch_parent(parent_pid: int, interval: float = 1.0) -> None:
    """Warm shutdown (SIGTERM to this process) once ``parent_pid`` is no longer the parent:
    the ``techmatch serve`` that started this worker was killed without stopping it."""
    import os
    import signal
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="techmatch-parent-watch", daemon=True).start()


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def worker(ctx: typer.Context, concurrency: int = 1, loglevel: str = "INFO",
           nice: Annotated[int, typer.Option(help="降低本进程的 CPU 优先级（nice 增量，0–19）")] = 0,
           parent_pid: Annotated[int | None, typer.Option(
               help="该进程退出后本进程随之停止（techmatch serve 启动时使用）")] = None) -> None:
    """启动后台任务进程（Celery worker）：未配置消息队列时使用数据目录下的本地队列。"""
    import os

    from core.celery_app import configure, mode

    m = mode()
    if m == "eager":
        fail("TECHMATCH_CELERY_EAGER 已开启：任务在调用进程内执行，无需 worker")
    if not 0 <= nice <= 19:
        fail("--nice 应在 0 到 19 之间")
    if nice:
        os.nice(nice)
    if parent_pid:
        _watch_parent(parent_pid)
    celery = configure()
    args = ["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}"]
    if m == "local":  # one process on the data dir: the index has one writer anyway
        args += ["--pool", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    celery.worker_main([*args, *ctx.args])


@app.command()
def beat(loglevel: str = "INFO") -> None:
    """启动 Celery beat（定时采集等周期任务）。"""
    from core.celery_app import configure

    if not settings_mod.get_settings().celery_broker_url:
        fail("未配置 TECHMATCH_CELERY_BROKER_URL")
    s = settings_mod.get_settings()
    celery = configure()
    celery.start(["beat", f"--loglevel={loglevel}", f"--schedule={s.ensure_data_dir() / 'celerybeat-schedule'}"])


@user_app.command("create")
def user_create(
    org: Annotated[str, typer.Option(help="单位 ID、统一社会信用代码或全称")],
    role: Annotated[str, typer.Option(help="enterprise | university | broker | bureau | admin")],
    email: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    name: Annotated[str, typer.Option()] = "",
) -> None:
    """创建账号（包括第一个管理员账号）。"""
    from pydantic import ValidationError
    from sqlalchemy import or_, select

    from core.accounts import service as accounts
    from core.accounts.schemas import UserCreate
    from core.db import session_scope
    from core.errors import DomainError, validation_failed_from_pydantic
    from core.models import Organization

    try:
        with session_scope() as s:
            cond = [Organization.credit_code == org.upper(), Organization.name == org]
            if org.isdigit():
                cond.append(Organization.id == int(org))
            o = s.scalar(select(Organization).where(or_(*cond)))
            if o is None:
                fail(f"找不到单位：{org}")
            data = UserCreate(org_id=o.id, email=email, password=password, role=role, name=name)
            u = accounts.create_user(s, None, data)
            console.print(f"已创建账号 {u.email}（{u.role}，{o.name}）")
    except ValidationError as e:
        fail(validation_failed_from_pydantic(e).message)
    except DomainError as e:
        fail(e.message)


def _load_plugins() -> None:
    for name in PLUGINS:
        importlib.import_module(name).register(app, eval_app)


def main() -> None:
    _load_plugins()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
