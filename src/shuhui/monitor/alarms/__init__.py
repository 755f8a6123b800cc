"""Alarms (告警): rules as content, one alarm per condition and source, its lifecycle, the
responder units' inboxes.

Rules (``content/<city>/monitor/alarm-rules.yaml``, ``rules``): threshold, rate of change,
duration, silence and correlation (several conditions at one site or within a distance), each
with its level (一级 red, most severe … 四级 blue), what clears it (the condition false for M
minutes → close, or de-escalate one level per M minutes), when an unacknowledged alarm
escalates, and the standard it implements. The monitoring centre and the responder units
(``units.yaml``): who takes which scenario, the response-time targets per level.

The engine (``engine``): ``evaluate(db, directory, readings, now)`` is the telemetry
consumer's evaluator, in the transaction that stored the readings; ``tick(db, directory, now)``
every ~5 s. Its docstring says how the state is shared by consumer processes and cached in
each; the database's unique ``open_key`` (``rule|source`` while not closed) makes a second
alarm for an open condition impossible, whatever the processes do.

The lifecycle (``lifecycle``): raised → acknowledged → dispatched (to a unit taking the
scenario; a message in its inbox, ``monitor_unit_messages``) → resolved → closed; escalation
and de-escalation by ``tick``. A step not allowed now is a 409 naming the state. Every state
change is an event (the alarm's timeline) and a ledger entry (``monitor.alarm_*``) in the same
transaction. A cleared condition closes an alarm not yet dispatched; once a unit is at work the
platform only de-escalates and notes the clearing, and the centre's officer closes it.

Who: the monitoring centre's officers (the department of the ``centre`` in units.yaml) and
admins see and work every alarm; a responder unit's officers see the alarms dispatched to their
unit, their inbox, and mark those resolved. Pages ``/monitor/alarms`` (the queue by level and
age, counts per level), ``/monitor/alarms/{code}`` (timeline, readings, response times against
targets, actions asking first), ``/monitor/inbox``; API ``/api/v1/monitor/alarms``,
``/api/v1/monitor/inbox``; ``cli.app`` (``shuhui monitor alarms [--open] [--json]``).
"""
