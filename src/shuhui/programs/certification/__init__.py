"""Pension certification (养老保险待遇领取资格认证, 无感认证): once a year each pensioner is shown
alive by the records they leave in the data core, instead of being called in; the few the data
cannot show are told, certify themselves online, or are visited; payment is suspended (never
stopped) when a window lapses and resumed with back pay; a death stops payment from the next
month and the overpayment is recovered.

How it works

- **Content.** The evidence is rule content: ``content/<city>/policies/pension-certification.yaml``
  (entity person) has one variable per source — medical visits (complete: none found is false),
  transit trips (a sample: none found is unknown), the household's water and power use (a
  lookup of ``utility_usage`` by the resident's ``household_id``), death and cremation with their
  dates — and ``evidence``, the weighted score ``CASE WHEN known(medical) THEN w_medical ELSE 0
  END + …``: ``known(b)`` (the engine's one extension for this) counts a source only where it is
  known true, so an unseen trip adds nothing and takes nothing. The rule is eligible when the
  person draws a pension, no death or cremation is recorded and the score reaches ``threshold``.
  The cycle's own parameters are ``content/<city>/programs/certification.yaml`` (:mod:`.config`):
  the window's anchor (birth month, or a year after the last certification) and length, the
  notice channels and the days it gives before a suspension, the home visit's lead time, the
  suspension's grace, the threshold and the sources (rule variable, weight, recency), each
  version dated and referenced (人社厅发〔2018〕54号, 人社部发〔2015〕32号); a source that disagrees
  with the rule (weight, recency window, threshold) is refused naming the file, item and field.
- **The run** (:func:`.service.run` → :mod:`.cycle`, one transaction). One DuckDB query joins
  the rule's values for every person (``rules.service.values_sql``) to the pensions in payment
  (``pension_recipients``, 正常发放, started) and to the payments made for months after a recorded
  death. Python walks the pensioners once against what the database holds for the years
  concerned (read in a few queries): the year is the one whose window opened last; a recipient
  already certified for it is skipped; otherwise dead → ``deceased`` (each pension stopped from
  the month after death, an :class:`.models.Overpayment` opened when the data core shows
  payments after that month); enough evidence → ``certified`` by ``data`` (the sources that
  fired, the score, the rule and evaluation date kept; the run keeps the table versions);
  otherwise ``undetermined``: told at once (portal + SMS in ``program_outbox``), a home visit
  for the street office (街道办事处 of the recipient's district, a department string) from
  ``lead_days`` before the window's end, and each pension **suspended** (a
  :class:`.models.PaymentHold`) from the month after the later of the window's end and the
  notice's days — never stopped for lack of evidence. A later run certifies by data whoever has
  evidence by then and resumes them. On SQLite with the birth-month anchor the common case never
  enters Python (:mod:`.fastpath`): DuckDB materialises the evidence once, picks the recipients
  simply certified by data (alive, enough evidence, nothing held, no certification yet for the
  year — the years' keys and the held recipients handed to it as Arrow tables), places their
  window and formats each row in SQLite's storage formats, and one ``executemany`` inserts them;
  only the rest (~2 %) is walked. New certifications, messages and ledger entries are written in
  bulk (Core inserts, ``record_many``). A :class:`.models.CycleRun` per date makes the run
  idempotent: the same date again returns its counts (``already_run``) and writes nothing; a
  crash writes nothing (one transaction) and the next run of the date does it all.
- **After the run.** The recipient signs a declaration (:func:`.service.self_certify`, SM2 with
  the platform-held key of ``trust.authorisations.keys``, or their own key's signature) after
  re-authenticating: certified by ``self``, suspended pensions resumed with back pay (a
  :class:`.models.Resumption`: months from the suspension's month to the certification's,
  both included, × the monthly amount, in fen), the open visit closed. Anyone else — an agent
  under a mandate included — is refused with a ``certification.self_refused`` entry. The street
  office records its visit (:func:`.service.record_visit`: certified by ``visit``, found
  deceased with the date, or not found: stays suspended). Recoveries of an overpayment are
  recorded in parts until it is recovered (:func:`.service.record_recovery`).
- **Evidence named.** :func:`.service.explain` re-evaluates the rule for the recipient on the
  certification's evaluation date (``rules.explain``: the rows of each source that counted, the
  tables' versions, the parameters in force) — an officer's look, so ``certification.viewed``.
- **Ledger.** ``certification.cycle_run`` (one per run, with its counts: the certifications by
  data that a run makes are covered by it and carry its ``run_id``), ``.certified`` (by data
  after being undetermined), ``.notified``, ``.visit_assigned``, ``.visited``, ``.suspended``,
  ``.resumed``, ``.stopped``, ``.overpayment``, ``.recovered``, ``.signed``, ``.self_refused``,
  ``.viewed``, each in the transaction of its change.
- **Command line and evaluation.** ``shuhui programs certify --date D [--json]`` (:mod:`.cli`;
  a future or malformed date exits 2 with a Chinese message; a repeated date says nothing
  changed); :mod:`.evaluation` scores the findings against ``truth_pension_after_death`` and
  ``truth_no_record`` for ``shuhui programs evaluate``.
- **From a page.** The dashboard's run is a background job (:mod:`.tasks`, kind
  ``certification.cycle`` on :mod:`shuhui.jobs`): refused at once for a future date or another
  department, nothing queued; a worker runs the cycle in one transaction with the pensions
  walked as its progress, the job's page follows it and then opens the dashboard (``?ran=``,
  ``&again=1`` when the date had run). The same date asked again while queued is that job.
- **Pages and API** (:mod:`.routes`, :mod:`.pages`, the same schemas): the 人社局's dashboard
  and lists, a recipient's evidence, overpayments and recoveries; 我的养老金资格认证 for the
  pensioner; the street office's visit tasks, each naming whom to visit and where (name and
  address read from the population register for the open tasks, a ``certification.visit_read``
  entry per person). Windows, months and the street office are :mod:`.windows`.
- **Not yet:** the fast path is SQLite's (on PostgreSQL every row takes the walk); the anchor on
  the last certification is walked in Python (no fast path).
"""
