"""The sensor simulator (传感器仿真) and the scoring of detection against it.

- ``streams``: what a device reports when nothing happens — diurnal outdoor temperature (cool
  before dawn, warmest mid-afternoon, Qingdao time), humidity moving against it, gusting wind,
  indoor temperature, pipe and tank pressures, tilt and strain around zero, a trace of smoke or
  gas — each device with its own offsets and measurement noise, always inside its metric's
  physical range and well clear of every alarm rule.
- ``incidents``: what is injected, each kind with the devices it takes and how their values
  move from its start: a high-rise fire (smoke, then heat, at several detectors of one
  building), a forest fire (heat up, humidity down, smoke, wind at neighbouring stations), a
  gas leak (a ``gas_lel`` ramp at neighbouring detectors of one plant), tank over-pressure,
  structural tilt, a device going silent; and near-misses that should raise nothing (a smoke
  blip under the threshold, a slow whiff of gas at one detector, a pressure spike shorter than
  the rule's minutes, a hot dry calm day, a small tilt). ``plan`` picks the devices (whole
  sites) and schedules the incidents, never two at one site at once.
- ``runner``: publishes the streams over MQTT (paho) in time order at ``speed`` × real time,
  at most ``rate`` messages a second. The simulation's clock (``SimClock``) is where the
  publisher has got to: a consumer run in the same process (``--consume``) takes it as its
  clock, so sped-up durations, silence and escalation hold in simulated time; alone, the
  simulator runs at real time. A sped-up run starts in the past and catches up with the real
  time as it ends, so every reading is a plausible one.
- ``evaluate``: the truth — the incidents, labelled, in ``<data dir>/monitor/simulations/<run
  id>.jsonl``, a file of its own the detectors never read — against the alarms raised during
  the run: detected, missed, false alarms (an alarm on the run's devices that no incident
  explains; a near-miss's alarm is one), duplicates (a second alarm of a rule and source while
  the first was open), time to alarm p50/p95/max.
- ``cli``: ``shuhui monitor simulate`` and ``shuhui monitor evaluate``.
"""
