"""``shuhui monitor``: the safety-monitoring platform from the command line.

``consume`` runs the MQTT consumer (starting a Mosquitto under the data dir when nothing
listens at ``SHUHUI_MQTT_URL``), ``devices`` lists the sensors with when each was last heard
from, ``retention`` applies the telemetry retention now. Typer and Rich only at the top.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from shuhui.core.terminal import escape, new_console, print_table, say
from shuhui.monitor.alarms import cli as alarms_cli
from shuhui.monitor.simulate import cli as simulate_cli

app = typer.Typer(
    help="安全监测 Safety monitoring: sensors, telemetry, alarms.", no_args_is_help=True
)
console = new_console(stderr=True)
out = new_console()
app.add_typer(alarms_cli.app, name="alarms")
app.command("simulate")(simulate_cli.simulate)
app.command("evaluate")(simulate_cli.evaluate_command)


@app.command("consume")
def consume(
    group: Annotated[
        str | None,
        typer.Option(
            "--group",
            help="share the messages with other consumers of this group ($share/<group>/…)",
        ),
    ] = None,
    qos: Annotated[int, typer.Option("--qos", min=0, max=1, help="MQTT QoS (0 or 1)")] = 1,
    client_id: Annotated[
        str | None,
        typer.Option("--client-id", help="the persistent session's id (distinct per consumer)"),
    ] = None,
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size", min=1, max=20_000, help="most messages a transaction (what is waiting)"
        ),
    ] = 10_000,
    batch_ms: Annotated[
        int,
        typer.Option(
            "--batch-ms", min=1, max=10_000, help="how long a small batch waits for more (ms)"
        ),
    ] = 100,
    quiet: Annotated[bool, typer.Option("--quiet", help="no status line")] = False,
) -> None:
    """Store sensor readings from MQTT until SIGTERM or Ctrl-C (消费监测数据)."""
    from shuhui.core.db import make_engine, make_session_factory
    from shuhui.core.settings import get_settings
    from shuhui.datacore.store import DataCore
    from shuhui.monitor.alarms import engine as alarms_engine
    from shuhui.monitor.registry import service as registry_service
    from shuhui.monitor.telemetry import broker
    from shuhui.monitor.telemetry.consumer import Config, Consumer, Stats
    from shuhui.monitor.telemetry.retention import Retention

    settings = get_settings()
    settings.ensure_data_dir()
    started = broker.ensure(settings.mqtt_url, settings.data_dir)
    if started is not None:
        console.print(
            escape(
                say(f"已启动 MQTT 服务 {started.url}", f"started an MQTT broker at {started.url}")
            )
        )
    engine = make_engine(settings.sqlalchemy_url)
    core = DataCore.from_settings(settings)
    config = Config(
        url=settings.mqtt_url,
        client_id=client_id or ("shuhui-telemetry" + (f"-{group}" if group else "")),
        group=group,
        qos=qos,
        batch_size=batch_size,
        batch_ms=batch_ms,
    )
    consumer = Consumer(
        make_session_factory(engine),
        lambda: registry_service.directory(core, settings.content_dir, settings.city),
        config,
        retention=Retention.from_env(),
        evaluators=[alarms_engine.evaluate],
        tickers=[alarms_engine.tick],
    )
    console.print(
        escape(
            say(
                f"订阅 {config.topic}（QoS {qos}，设备 {len(consumer.directory):,} 台）",
                f"subscribed to {config.topic} (QoS {qos}, {len(consumer.directory):,} devices)",
            )
        )
    )

    def status(stats: Stats) -> None:
        if not quiet:
            console.print(
                escape(
                    say(
                        f"收到 {stats.received:,}  存入 {stats.readings_stored:,} 条读数  "
                        f"拒收 {sum(stats.rejected.values()):,}",
                        f"received {stats.received:,}  stored {stats.readings_stored:,} "
                        f"readings  refused {sum(stats.rejected.values()):,}",
                    )
                )
            )

    try:
        stats = consumer.run(status, every=5.0)
    finally:
        engine.dispose()
        if started is not None:
            started.stop()
    typer.echo(json.dumps(stats.as_json(), ensure_ascii=False))


@app.command("devices")
def devices(
    as_json: Annotated[bool, typer.Option("--json", help="print the devices as JSON")] = False,
) -> None:
    """List the sensing devices: type, site, district, last heard from (监测设备)."""
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.core.settings import get_settings
    from shuhui.datacore.store import DataCore
    from shuhui.monitor.registry import service as registry_service
    from shuhui.monitor.telemetry import service

    settings = get_settings()
    directory = registry_service.directory(
        DataCore.from_settings(settings), settings.content_dir, settings.city
    )
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            rows = service.device_rows(db, directory)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(title=say(f"监测设备 {len(rows):,} 台", f"{len(rows):,} devices"))
    for column in (
        say("设备", "device"),
        say("类型", "type"),
        say("场所", "site"),
        say("区县", "district"),
        say("最近上报", "last seen"),
    ):
        table.add_column(column)
    for r in rows:
        table.add_row(
            escape(r["id"]),
            escape(r["type_zh"]),
            escape(r["site"]),
            escape(r["district"]),
            escape(r["last_seen"] or "—"),
        )
    print_table(out, table)


@app.command("retention")
def retention(
    as_json: Annotated[bool, typer.Option("--json", help="print what was removed as JSON")] = False,
) -> None:
    """Apply the telemetry retention now: old day tables dropped, old roll-ups deleted."""
    from shuhui.core.clock import utcnow
    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.core.settings import get_settings
    from shuhui.monitor.telemetry import retention as kept

    settings = get_settings()
    policy = kept.Retention.from_env()
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            applied = kept.apply(db, policy, utcnow())
    finally:
        engine.dispose()
    result = {
        "dropped": applied.dropped,
        "minute_rows": applied.minute_rows,
        "hour_rows": applied.hour_rows,
        "day_rows": applied.day_rows,
        "rejection_rows": applied.rejection_rows,
        "retention_days": vars(policy),
    }
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    console.print(
        escape(
            say(
                f"删除了 {len(applied.dropped)} 天的原始数据表，分钟/小时/日汇总 "
                f"{applied.minute_rows:,}/{applied.hour_rows:,}/{applied.day_rows:,} 行",
                f"dropped {len(applied.dropped)} day tables; removed {applied.minute_rows:,} "
                f"minute, {applied.hour_rows:,} hour, {applied.day_rows:,} day roll-up rows",
            )
        )
    )
