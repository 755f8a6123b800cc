"""Sensor telemetry (传感器数据接入): readings over MQTT and over HTTP in batches, validated,
stored in day partitions with roll-ups and retention.

- ``ingest``: a topic and payload (or an HTTP item) → readings, or a rejection with one of the
  fixed reasons (``malformed``, ``unknown_device``, ``unknown_metric``, ``unit_mismatch``,
  ``value_out_of_range``, ``time_out_of_range``, ``bad_topic``). Never raises on input.
- ``store``: raw readings in one table per UTC day (``monitor_readings_YYYYMMDD``, made on
  demand; the same code on SQLite and PostgreSQL), inserted or ignored on device+metric+ts;
  minute, hour and day roll-ups kept from the newly stored readings only; the latest values;
  rejection counts by day and reason. Reads for the others: ``series``, ``latest``,
  ``rejection_counts``.
- ``retention``: how long each resolution is kept (environment variables, defaults 14 days raw,
  35 minute, 400 hour, 10 years day) and applying it (whole day tables dropped).
- ``consumer``: the MQTT consumer (paho-mqtt 2): a persistent QoS 1 session, batches, manual
  acknowledgements sent only after the batch's transaction commits, evaluators and tickers
  passed in (the alarm rules), an optional shared subscription group.
- ``receiver``: the consumer's receiving process (paho's network loop, raw messages handed
  over a pipe, QoS 1 acknowledged when the consumer reports the batch committed).
- ``broker``: the Mosquitto the demo starts when nothing listens at ``SHUHUI_MQTT_URL`` (its
  configuration under ``<data dir>/mosquitto/``).
- ``service``: the device directory until the registry's lands, the HTTP batch ingest, who may
  send it (the monitoring centre), the device list and page data.
- ``routes``/``pages``: ``POST /api/v1/monitor/telemetry``, ``GET
  /api/v1/monitor/devices/{id}/series``, ``/api/v1/monitor/rejections``, the device page
  ``/monitor/devices/{id}`` (30-day chart from hour roll-ups, latest values) and
  ``/monitor/telemetry`` (rejections by day and reason).
"""
