"""The digital-infrastructure registry (数字基础设施台账) and the plan's progress (发改委).

What it reads: the data core's ``infrastructure_assets`` (5G base stations, 10G-PON port groups,
data-centre rack groups, EV charging points, smart poles, traffic signals, safety-risk sensors;
each with its district, place, operator, status, commissioning and retirement dates, capacity,
and for a sensor its type and the site it watches), ``administrative_villages`` and
``district_population``. The synthetic city writes all three (``shuhui.synth.infrastructure``);
a real city loads them like any other data-core table.

What the city configures (content): the asset types (``monitor/asset-types.yaml``: names,
id prefix, NGSI-LD type, what the capacity counts) and the plan's targets per indicator and
year (``monitor/targets.yaml``: value, unit, denominator — absolute, per 10,000 people, share of
villages — the text it comes from, and ``inferred`` on every number the plan does not state).

Modules:

- ``content``: loading and checking both files.
- ``progress``: each indicator per district and month, one DuckDB query (an asset counts from
  its commissioning to its retirement; village coverage within ``coverage_km`` of a station).
- ``service``: progress against targets, the overview, asset search (filters, a box, paging),
  ``directory(core, content_dir, city)`` — the sensors as ``monitor.devices.Directory`` for the
  telemetry and alarms — and the NGSI-LD queries.
- ``ngsi``: the NGSI-LD entity shapes and the ``q`` language (no HTTP); ``ngsi_routes``: the
  ``/ngsi-ld/v1`` API (``docs/ngsi-ld.md`` says what is supported).
- ``routes``: ``/api/v1/monitor/infrastructure/…``; ``pages``: ``/monitor/infrastructure`` (cards
  per indicator, month-by-month progress against the yearly targets, districts as bars and as a
  map drawn from ``/static/maps/qingdao.json``) and ``/monitor/infrastructure/assets``.

Who reads it: any officer, data operator or admin. Nothing is personal, so nothing is
recorded in the ledger; nothing is written.
"""
