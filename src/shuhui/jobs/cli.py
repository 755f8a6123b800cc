"""``shuhui jobs …``: the background jobs from the command line.

- ``shuhui jobs ls [--state S] [--json]`` — the latest jobs;
- ``shuhui jobs show ID [--follow] [--json]`` — one job; ``--follow`` draws its progress until
  it ends (exit 1 if it failed);
- ``shuhui jobs worker [--threads N]`` — this process as a worker on the platform's queue (with
  ``SHUHUI_REDIS_URL``, the production shape; without, beside or instead of the served app's own
  consumer threads);
- ``shuhui jobs recover`` — take back once what dead workers held (every worker does it as it
  starts and every few seconds).

The kinds a worker can run are the domains', which sit above this package: the top-level
command hands them over (:func:`make_app`). Only Typer is imported at import time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from shuhui.core.settings import Settings
    from shuhui.jobs.kinds import JobKind
    from shuhui.jobs.models import Job

KindsFactory = Callable[["Settings", "sessionmaker[Session]"], "Iterable[JobKind[Any]]"]
STATE_NAMES = {"queued": "排队中", "running": "运行中", "done": "已完成", "failed": "失败"}


def _console() -> Any:
    from shuhui.core.terminal import new_console

    return new_console()


@contextmanager
def _database(settings: Settings) -> Iterator[sessionmaker[Session]]:
    from shuhui.core.db import make_engine, make_session_factory

    engine = make_engine(settings.sqlalchemy_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def _as_dict(job: Job) -> dict[str, Any]:
    from shuhui.jobs.schemas import JobOut

    out: dict[str, Any] = JobOut.of(job).model_dump(mode="json")
    return out


def _progress_text(job: Job) -> str:
    counted = f" {job.progress_done:,}/{job.progress_total:,}" if job.progress_total else ""
    return f"{job.progress_label}{counted}"


def make_app(kinds: KindsFactory) -> typer.Typer:
    app = typer.Typer(help="Background jobs (后台任务): list, follow, run a worker.")

    @app.command("ls")
    def ls_command(
        state: Annotated[str | None, typer.Option(help="queued, running, done or failed")] = None,
        limit: Annotated[int, typer.Option(min=1, max=200, help="how many, newest first")] = 20,
        as_json: Annotated[bool, typer.Option("--json", help="one JSON object per job")] = False,
    ) -> None:
        """The latest background jobs, newest first."""
        from rich.table import Table

        from shuhui.core.settings import get_settings
        from shuhui.core.terminal import escape, print_table, say
        from shuhui.jobs import service

        if state is not None and state not in STATE_NAMES:
            _console().print(escape(say(f"没有状态 {state}", f"no state {state}")))
            raise typer.Exit(2)
        with _database(get_settings()) as factory, factory() as db:
            rows, _ = service.listing(db, None, state=state, limit=limit)
            if as_json:
                for job in rows:
                    typer.echo(json.dumps(_as_dict(job), ensure_ascii=False))
                return
            table = Table(title=say("后台任务", "Background jobs"))
            for header in ("#", say("任务", "job"), say("状态", "state"), say("进度", "progress")):
                table.add_column(header, overflow="fold")
            table.add_column(say("发起人", "by"))
            for job in rows:
                table.add_row(
                    str(job.id),
                    escape(job.title),
                    escape(STATE_NAMES.get(job.state, job.state)),
                    escape(
                        job.reason if job.state == "failed" and job.reason else _progress_text(job)
                    ),
                    escape(job.actor),
                )
        print_table(_console(), table)

    @app.command("show")
    def show_command(
        job_id: Annotated[int, typer.Argument(min=1, help="the job's number")],
        follow: Annotated[
            bool, typer.Option("--follow", help="draw its progress until it ends")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="print the job as JSON")] = False,
    ) -> None:
        """One background job; with --follow, its progress until it ends (exit 1 if failed)."""
        from shuhui.core.settings import get_settings
        from shuhui.core.terminal import escape, say
        from shuhui.jobs import service

        console = _console()
        with _database(get_settings()) as factory:

            def read() -> Job:
                with factory() as db:
                    job = service.get(db, job_id)
                    if job is None:
                        console.print(
                            escape(say(f"没有编号为 {job_id} 的任务", f"no job {job_id}"))
                        )
                        raise typer.Exit(2)
                    return job

            job = read()
            if follow and not job.ended:
                job = _follow(console, job, read)
        if as_json:
            typer.echo(json.dumps(_as_dict(job), ensure_ascii=False))
        else:
            _describe(console, job)
        if follow and job.state == "failed":
            raise typer.Exit(1)

    @app.command("worker")
    def worker_command(
        threads: Annotated[
            int, typer.Option(min=1, max=32, help="jobs run at once by this process")
        ] = 2,
        stale_after: Annotated[
            float,
            typer.Option(
                min=2.0, max=86_400.0, help="seconds without a heartbeat before a job is taken back"
            ),
        ] = 120.0,
    ) -> None:
        """Run background jobs from the platform's queue until stopped (SIGINT: finish the
        jobs in hand first; SIGTERM: at once, they are taken back and run again)."""
        import logging
        import os
        import sys

        from shuhui.core.db import make_engine, make_session_factory
        from shuhui.core.logging import configure_logging
        from shuhui.core.migrate import current_revision, head_revision
        from shuhui.core.settings import get_settings
        from shuhui.core.terminal import escape, say
        from shuhui.jobs.queue import Jobs

        settings = get_settings()
        configure_logging(settings.log_level, json_lines=settings.log_json)
        engine = make_engine(settings.sqlalchemy_url)
        current, head = current_revision(engine), head_revision()
        console = _console()
        if current != head:
            console.print(
                escape(
                    say(
                        f"数据库版本为 {current}，程序需要 {head}：请先运行 shuhui db upgrade",
                        f"the database is at {current}, the code needs {head}: "
                        "run `shuhui db upgrade` first",
                    )
                )
            )
            raise typer.Exit(2)
        factory = make_session_factory(engine)
        jobs = Jobs(settings, factory, kinds(settings, factory), stale_after=stale_after)
        console.print(
            escape(
                say(
                    f"后台任务工作进程已启动：{threads} 个线程，队列 {jobs.backend}",
                    f"background job worker started: {threads} threads, {jobs.backend} queue",
                )
            )
        )
        jobs.work(threads)
        # Stopped: a job thread may still be inside DuckDB, whose teardown under a finalising
        # interpreter aborts; what it held is taken back by the next worker.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    @app.command("recover")
    def recover_command(
        stale_after: Annotated[
            float,
            typer.Option(
                min=2.0, max=86_400.0, help="seconds without a heartbeat before a job is taken back"
            ),
        ] = 120.0,
    ) -> None:
        """Take back once the jobs that dead workers held: queued again, or failed once their
        attempts are used."""
        from shuhui.core.settings import get_settings
        from shuhui.core.terminal import escape, say
        from shuhui.jobs.queue import Jobs
        from shuhui.jobs.tasks import recover

        settings = get_settings()
        with _database(settings) as factory:
            jobs = Jobs(settings, factory, kinds(settings, factory), stale_after=stale_after)
            found = recover(jobs)
        _console().print(
            escape(
                say(
                    f"重新排队 {len(found.queued)} 个，判定失败 {len(found.failed)} 个，"
                    f"重新交给队列 {len(found.handed)} 个",
                    f"queued again {len(found.queued)}, failed {len(found.failed)}, "
                    f"handed to the queue again {len(found.handed)}",
                )
            )
        )

    return app


def _follow(console: Any, job: Job, read: Callable[[], Job]) -> Job:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from shuhui.core.terminal import escape

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(escape(job.title), total=None)
        while True:
            bar.update(
                task,
                description=escape(f"{job.title} · {job.progress_label}"),
                completed=job.progress_done,
                total=job.progress_total or None,
            )
            if job.ended:
                return job
            time.sleep(0.5)
            job = read()


def _describe(console: Any, job: Job) -> None:
    from shuhui.core.terminal import escape, say

    lines = [
        f"#{job.id} {job.title}",
        f"{say('状态', 'state')}：{STATE_NAMES.get(job.state, job.state)}"
        f"（{say('尝试', 'attempts')} {job.attempts}/{job.max_attempts}）",
        f"{say('进度', 'progress')}：{_progress_text(job)}",
    ]
    if job.reason:
        lines.append(f"{say('原因', 'reason')}：{job.reason}")
    if job.result_text:
        lines.append(f"{say('结果', 'result')}：{job.result_text}")
    if job.link:
        lines.append(f"{say('结果页面', 'page')}：{job.link}")
    for line in lines:
        console.print(escape(line))
