"""Background jobs (后台任务): long work started from a page — a policy campaign over the city, a
pension certification cycle — runs on a queue, with its progress live in the page and the
command line; it survives a server restart, and ends done, or failed with its reason, never
half-applied.

How it works

- **The row is the truth, the queue a delivery.** A job is a row of ``jobs`` (:mod:`.models`,
  migration 0040): its kind and parameters, who started it (and their department), its state
  queued → running → done | failed, its progress (done / total and a label, Chinese and
  English), attempts, the reason it failed, heartbeat, times, a result summary and the page
  that shows it. The queue is huey (:mod:`.queue`): a SQLite file in the data directory
  (``<data dir>/jobs/queue.db``) by default, consumed by threads of each served process
  (``web.app.create_served_app``), so the one-box setup needs nothing more; Redis when
  ``SHUHUI_REDIS_URL`` is set, consumed by ``shuhui jobs worker`` processes. It carries a job's
  id and nothing else, as JSON (never pickle); one queue per platform, named by its database.
- **Kinds are the domains'.** A domain declares a :class:`.kinds.JobKind` in its ``tasks``
  module — its parameters' schema, ``prepare`` (who may start it and what exactly: run in the
  starting request, so a refusal is answered at once, nothing queued; the title; a key that
  makes the same work asked twice while it runs the one job) and ``work`` (given a
  :class:`.kinds.Run`: the job's one session and a ``progress(done, total, label)``).
  ``shuhui.web.jobs`` gathers them for the app and for the worker: ``programs.campaign``
  (``programs.tasks``, from the campaign console), ``certification.cycle``
  (``programs.certification.tasks``, from the cycle's dashboard) and ``catalog.sync``
  (``catalog.tasks``: the data core's new versions registered and their quality assessed, from
  the catalog's page by a data operator).
- **Starting** (:func:`.service.start`, from a page of the domain): the row, a ``jobs.queued``
  ledger entry, and the id handed to the queue once the request's transaction commits (a
  SQLAlchemy ``after_commit`` hook: never for a request that rolls back).
- **Running** (:mod:`.runner`): a worker claims the job (queued → running, ``attempts`` + 1,
  ``jobs.started``), runs the kind's work in one transaction and marks the job done in that same
  transaction (``jobs.done``): the work and the mark commit together or not at all. A heartbeat
  thread writes liveness and progress every second in transactions of its own, fenced by the
  attempt. A refusal (:class:`~shuhui.core.errors.Problem`) fails the job at once with its
  detail; any other error is retried after a delay while attempts remain (three by default),
  then fails the job naming it (``jobs.failed``); the work's transaction was rolled back first.
- **A worker killed mid-run** leaves the row running with its heartbeat stopping and nothing of
  its work committed. Every consumer runs :mod:`.tasks`' recovery as it starts and every few
  seconds: a running job whose worker is gone — a process of this machine that has ended, or
  any worker silent for ``stale_after`` (120 s; on SQLite a job writing its results holds the
  one write lock, and its heartbeat waits) — is queued again (``jobs.resumed``), or failed once
  its attempts are used ("工作进程在运行中中断，已尝试 3 次，不再重试"). Each move of a row is
  fenced by its attempt (and the recovery's by the heartbeat it saw), so an attempt taken back
  can neither report progress nor finish: its finish rolls back whole. Queued jobs the queue
  lost (a Redis restarted without persistence, a hand-over that failed) are handed over again;
  a second delivery finds the job taken. Every writer appends to the ledger before it updates
  a job row, one lock order, so on PostgreSQL no two of them deadlock.
- **Who sees a job**: whoever started it, the officers of their department, administrators
  (:func:`.service.can_see`; anyone else gets a 404).
- **Pages and API.** 我的后台任务 ``/jobs`` and a job's page ``/jobs/{id}`` (:mod:`.pages`): a
  progress bar (``role=progressbar`` with ``aria-valuenow``) kept live by polling
  ``GET /api/v1/jobs/{id}`` each second, the result's page opened when a watched job is done,
  a failure's reason in Chinese first; ``GET /api/v1/jobs`` (:mod:`.routes`).
- **Command line** (:mod:`.cli`): ``shuhui jobs ls``, ``shuhui jobs show ID --follow`` (a Rich
  progress bar), ``shuhui jobs worker [--threads N]``, ``shuhui jobs recover``.
- **Crash points** (``core.crash``): ``jobs.before_commit`` (the work and its mark written, not
  committed) and ``jobs.after_commit``; tests/jobs kill a real ``shuhui jobs worker`` there.
- **Workbench**: jobs in progress, and those failed in the last week (urgent), when there are
  any (:mod:`.workbench`).
- **Not yet**: a job cannot be cancelled, nor a failed one started again from its page (its
  starting page starts it anew); the synthetic city build runs from the command line only (no
  package but the CLI may import the generator).
"""
