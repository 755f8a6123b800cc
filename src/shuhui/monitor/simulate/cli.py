"""``shuhui monitor simulate`` and ``shuhui monitor evaluate``. Typer and Rich only here; the
work is imported when a command runs."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from shuhui.core.terminal import escape, new_console, say

console = new_console(stderr=True)


def simulate(
    devices: Annotated[
        int, typer.Option("--devices", min=0, max=1_000_000, help="devices (whole sites; 0: all)")
    ] = 500,
    minutes: Annotated[
        float, typer.Option("--minutes", min=1, max=14 * 24 * 60, help="simulated minutes")
    ] = 60,
    speed: Annotated[
        float,
        typer.Option("--speed", min=1, max=10_000, help="× real time (needs --consume above 1)"),
    ] = 1.0,
    rate: Annotated[
        float, typer.Option("--rate", min=0, max=1_000_000, help="most messages a second (0: any)")
    ] = 5_000,
    incidents: Annotated[int, typer.Option("--incidents", min=0, max=100_000)] = 6,
    near_misses: Annotated[int, typer.Option("--near-misses", min=0, max=100_000)] = 5,
    incident_every: Annotated[
        float | None,
        typer.Option("--incident-every", min=0.5, help="an incident every this many minutes"),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 2026,
    qos: Annotated[int, typer.Option("--qos", min=0, max=1)] = 1,
    consume: Annotated[
        bool,
        typer.Option("--consume", help="run a consumer with the alarm rules on the run's clock"),
    ] = False,
    skip_alarmed: Annotated[
        bool, typer.Option("--skip-alarmed", help="leave out the sites with an open alarm")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the run (and score) as JSON")
    ] = False,
) -> None:
    """Publish realistic sensor streams with labelled incidents over MQTT (传感器仿真)."""
    import signal
    import threading
    from datetime import timedelta

    from shuhui.core.clock import utcnow
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.core.settings import get_settings
    from shuhui.datacore.store import DataCore
    from shuhui.monitor.registry import service as registry_service
    from shuhui.monitor.simulate import evaluate, runner
    from shuhui.monitor.simulate import incidents as planned
    from shuhui.monitor.telemetry import broker

    if speed > 1 and not consume:
        console.print(
            escape(
                say(
                    "加速仿真须与 --consume 同用：告警规则的时长和离线判断须按仿真时钟计算",
                    "--speed above 1 needs --consume: the rules' minutes and silences must run "
                    "on the simulation's clock",
                )
            )
        )
        raise typer.Exit(2)
    settings = get_settings()
    settings.ensure_data_dir()
    directory = registry_service.directory(
        DataCore.from_settings(settings), settings.content_dir, settings.city
    )
    if not len(directory):
        console.print(
            escape(say("设施台账中没有传感器：请先运行 shuhui demo", "no sensors: run shuhui demo"))
        )
        raise typer.Exit(1)
    engine = make_engine(settings.sqlalchemy_url)
    factory = make_session_factory(engine)
    from sqlalchemy import func, select

    from shuhui.monitor.alarms.models import OPEN_STATES, Alarm

    with transaction(factory) as db:
        alarms_before = int(db.scalar(select(func.max(Alarm.id))) or 0)
        alarmed = frozenset(
            db.scalars(select(Alarm.site).where(Alarm.state.in_(OPEN_STATES)))
            if skip_alarmed
            else ()
        )
    started = broker.ensure(settings.mqtt_url, settings.data_dir)
    now = utcnow()
    start = now - timedelta(minutes=minutes * (1 - 1 / speed))
    run_id = runner.new_run_id(now)
    count = int(minutes // incident_every) if incident_every else incidents
    made = planned.plan(
        directory,
        start=start,
        minutes=minutes,
        devices=devices,
        incidents=count,
        near_misses=near_misses if not incident_every else count // 3,
        seed=seed,
        run_id=run_id,
        exclude_sites=alarmed,
    )
    truth = runner.truth_path(settings.data_dir, run_id)
    console.print(
        escape(
            say(
                f"仿真 {run_id}：设备 {len(made.devices):,} 台，事件 {len(made.incidents)} 起，"
                f"{minutes:g} 分钟 × {speed:g} 倍速；真值 {truth}",
                f"run {run_id}: {len(made.devices):,} devices, {len(made.incidents)} incidents, "
                f"{minutes:g} min at {speed:g}×; truth in {truth}",
            )
        )
    )
    stop = threading.Event()
    previous = {
        s: signal.signal(s, lambda _n, _f: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)
    }
    clock = runner.SimClock(start, speed)
    consumer = None
    if consume:
        from shuhui.monitor.alarms import engine as alarms_engine
        from shuhui.monitor.telemetry.consumer import Config, Consumer
        from shuhui.monitor.telemetry.retention import Retention

        consumer = Consumer(
            factory,
            lambda: directory,
            Config(
                url=settings.mqtt_url,
                client_id=f"shuhui-simulate-{run_id}",
                batch_ms=100,
                tick_seconds=max(0.2, min(5.0, 60.0 / speed)),
            ),
            retention=Retention.from_env(),
            evaluators=[alarms_engine.evaluate],
            tickers=[alarms_engine.tick],
            clock=clock.now,
        )
    try:
        done = runner.run(
            made,
            run_id=run_id,
            truth=truth,
            mqtt_url=settings.mqtt_url,
            speed=speed,
            rate=rate,
            qos=qos,
            seed=seed,
            consumer=consumer,
            clock=clock,
            stop=stop,
            alarms_before=alarms_before,
        )
        result: dict[str, object] = {
            "run": run_id,
            "truth": str(truth),
            "devices": len(made.devices),
            "incidents": len(made.incidents),
            "skipped": made.skipped,
            "published": done.published.as_json(),
            "consumed": done.consumed,
        }
        if consume:
            with transaction(factory) as db:
                result["score"] = evaluate.score(db, evaluate.read_truth(truth)).as_json()
    finally:
        engine.dispose()
        for s, handler in previous.items():
            signal.signal(s, handler)
        if started is not None:
            started.stop()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    console.print(
        escape(
            say(
                f"已发布 {done.published.messages:,} 条；"
                f"评估：shuhui monitor evaluate --run {run_id}",
                f"published {done.published.messages:,} messages; score it with "
                f"shuhui monitor evaluate --run {run_id}",
            )
        )
    )


def evaluate_command(
    run: Annotated[
        str | None,
        typer.Option("--run", help="the run's id (default: the latest)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the score as JSON")] = False,
) -> None:
    """Score the alarms raised during a run against its injected incidents (仿真评估)."""
    import re

    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.core.settings import get_settings
    from shuhui.monitor.simulate import evaluate, runner

    settings = get_settings()
    folder = settings.data_dir / runner.SIMULATIONS
    if run is not None and not re.fullmatch(r"SIM-[0-9]{14}-[0-9a-f]{4}", run):
        console.print(escape(say(f"仿真编号不对：{run}", f"not a run id: {run}")))
        raise typer.Exit(2)
    path = runner.truth_path(settings.data_dir, run) if run else evaluate.latest_run(folder)
    if path is None or not path.exists():
        console.print(
            escape(say(f"没有这次仿真：{run or folder}", f"no such run: {run or folder}"))
        )
        raise typer.Exit(1)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            score = evaluate.score(db, evaluate.read_truth(path)).as_json()
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(score, ensure_ascii=False))
        return
    t = score["time_to_alarm_s"]
    console.print(
        escape(
            say(
                f"{score['run']}：注入事件 {score['incidents']} 起，检出 {score['detected']}，"
                f"漏报 {score['missed']}，误报 {score['false_alarms']}（其中临界干扰 "
                f"{score['near_miss_alarms']}），重复告警 {score['duplicates']}；"
                f"告警用时（仿真秒）p50 {t['p50']} p95 {t['p95']} 最长 {t['max']}",
                f"{score['run']}: {score['incidents']} incidents, {score['detected']} detected, "
                f"{score['missed']} missed, {score['false_alarms']} false alarms "
                f"({score['near_miss_alarms']} from near-misses), {score['duplicates']} "
                f"duplicates; time to alarm (simulated s) p50 {t['p50']} p95 {t['p95']} "
                f"max {t['max']}",
            )
        )
    )
