"""The monitoring wall (监测大屏): Qingdao's districts with every sensor as a point, the open
alarms highlighted by level, counts per level and scenario, the latest alarms — live.

- ``service``: the snapshot (``snapshot``: counts, the device-status summary, the latest open
  alarms with where they are, and on request every device as a point in columns) and what
  changed since a cursor (``changes``: the alarms' steps after an event id, each with the
  alarm as the API shows it). Device status comes from telemetry's latest values (one
  aggregate over ``monitor_latest``): reporting, silent (nothing for three reporting
  intervals), never heard.
- ``routes``: ``GET /api/v1/monitor/wall`` (the snapshot) and ``GET /api/v1/monitor/stream``
  (server-sent events: ``alarm`` for each step — raised, acknowledged, dispatched, escalated,
  closed… — with the new counts, ``status`` with the device summary every few seconds; an async
  generator polling ``changes`` every 0.5 s in the thread pool, ending when the client goes or
  after ``seconds``, when the browser's EventSource reconnects from its ``Last-Event-ID``).
- ``pages``: ``/monitor`` (ECharts: the district map from ``/static/maps/qingdao.json``, the
  devices as a large scatter, alarms as rippling points in their level's colour; the lists and
  counts update from the stream without a reload).

Who: the monitoring centre's officers and admins (``alarms.service.scope_of``); a responder
unit's officer is refused (its own alarms are in its inbox). Nothing personal is shown and
nothing is written, so nothing goes to the ledger.
"""
