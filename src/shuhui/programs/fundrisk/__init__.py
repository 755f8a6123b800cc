"""Fund-risk checks (基金监管，四链合一): detectors as rule content, alerts and their lifecycle.

How it works

A detector is a rule of the city's rule book (``content/<city>/policies/risk-*.yaml``) whose
"eligible" outcome means "found" and whose amount is what is to be recovered (fen); the rule's
entity is what it finds: a pension (``pension``: ``pension_recipients`` with its monthly
payments), an unemployment claim (``unemployment-claim``: a registration with its monthly
benefits) or a person. ``content/<city>/programs/fund-risk*.yaml`` names the rules that are
detectors, with the chain each watches (政策链 / 资金链 / 业务链 / 信息链) and the severity of
a finding. Nothing here looks at data beside the engine: the findings are
``rules.service.candidates(…, outcomes=("eligible",))``, set-based in DuckDB.

``service.detect`` runs every detector in force on a date (not after today: 422 on ``date``)
and opens an ``Alert`` for each finding not alerted before (one alert per rule and key, ever:
``UniqueConstraint(rule, subject)``), with the rule, the evaluation date and the tables'
versions (enough to explain it again), the amount to recover, the chain and the severity. A
finding already alerted is counted as open, not opened again; one no longer found keeps its
alert. A ``DetectionRun`` per date counts what each detector found, opened and already had,
and how many times the date was run (a repeated run says so). Each alert opened is a
``fundrisk.alert_opened`` ledger entry about the person, the run a ``fundrisk.detection_run``.

An alert's lifecycle: new → checking (``check``) → confirmed (``confirm``) or dismissed
(``dismiss``, with a reason, also from new) → recovering (``recover``: an amount in fen, never
more than is left) → recovered (when the whole amount is back). A step not allowed from the
state is a 409 naming it, a missing reason or a bad amount a 422; either way nothing changes.
Each step is an ``AlertEvent`` (the history a page shows) and a ledger entry in the same
transaction (``fundrisk.checked / confirmed / dismissed / recovery_recorded``). Reading the
rows a finding rests on (``rules.explain`` at the alert's date: the conditions, every input
with its source rows and table version) is reading the person's data: ``fundrisk.explained``.

The HRSS bureau's officers (基金监督) work the queue: ``/hrss/fundrisk`` (counts per chain and
stage with an ECharts chart, filters by chain, state and detector, a detection run),
``/hrss/fundrisk/alerts/{code}`` (the evidence, the history, the actions, each asking first),
the same over ``/api/v1/fundrisk/…``, and three workbench to-dos. ``shuhui programs detect
--date D [--json]`` runs a date from the command line. ``evaluation.evaluate`` scores each
detector against the synthetic city's ``truth_*`` tables (``shuhui programs evaluate``); only
it reads them.
"""
