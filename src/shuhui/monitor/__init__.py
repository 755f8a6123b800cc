"""Digital infrastructure and the safety-risk monitoring and early-warning platform (发改委:
数字基础设施, 城市安全风险综合监测预警).

Sub-packages, each in the domain template's shape:

- ``registry``: the infrastructure registry (5G base stations, 10G-PON port groups, data-centre
  rack groups, EV charging points, smart poles, traffic signals, sensors) read from the data
  core's ``infrastructure_assets``, the plan's yearly targets (content) with progress computed
  from the registry, and the registry served as NGSI-LD entities (``/ngsi-ld/v1/entities``).
- ``telemetry``: sensor readings over MQTT (``shuhui/<device id>/telemetry``) and over HTTP in
  batches, validated (rejections counted by reason, never crashing the consumer), stored in
  day partitions with minute, hour and day roll-ups and retention.
- ``alarms``: alarm rules as content (threshold, rate of change, duration, silence,
  correlation; levels 一级–四级), one alarm per condition and source, its lifecycle (raised →
  acknowledged → dispatched → resolved → closed), escalation, the units' inboxes.

``devices`` and ``readings`` are what the three share: the device directory (which sensor is
of which type, where, measuring what in which unit and range) and a validated reading.
"""
