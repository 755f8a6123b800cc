r"""The audit ledger: ``service`` (record and record_many, the tree cache, checkpoints,
verification), ``publish`` (the platform's checkpointer: signing, the files, the witnesses),
``witness`` (an independent witness process), ``audit`` (``shuhui audit verify`` against what was
published), ``keys`` (the platform's SM2 key), ``routes`` (checkpoints, proofs, entries),
``pages`` (the admin's page, ``/admin/ledger``) and ``cli`` (``shuhui audit …``); its tables
in ``models``. Running a witness: docs/ledger-witness.md.

How it works

- `trust.ledger.service.record(db, actor, action, subject, purpose, grant, detail)`
  bumps the single `ledger_head` row (`UPDATE … RETURNING`, which serialises
  concurrent writers on PostgreSQL and SQLite alike), builds the entry `{seq, at,
  actor, action, subject, purpose, grant, detail}`, encodes it as RFC 8785 canonical
  JSON, and stores those exact bytes with their leaf hash H(0x00 ‖ bytes), SM3 by
  default (`SHUHUI_LEDGER_HASH=sha256` selects SHA-256 while the ledger is still
  empty; `shuhui db upgrade` settles it). It runs in the caller's transaction: an act
  that is rolled back leaves no entry, and an act that commits cannot lose its entry.
- `trust.ledger.service.record_many(db, [Entry(...), ...])` appends a batch the same
  way with one head bump and one bulk insert; `record` is `record_many` of one. On
  SQLite the platform's pragmas (32 MiB page cache, checkpoint every 10,000 WAL pages;
  in `shuhui serve`, checkpoints by a background thread instead) keep the ledger's
  index pages in memory between batches (see docs/benchmarks.md).
  `authorisations.service.record_use(..., entries=[...])` hands its entries to the
  caller instead, so the data channel appends a group of calls' entries in one
  `record_many`.
- Each process keeps the tree of committed leaves in memory (`TreeCache`) and extends
  it from the database on use.
- Checkpoints are made by the platform, never on a request (`publish.Publisher`): at least
  every `SHUHUI_LEDGER_CHECKPOINT_EVERY` entries (1000) and, while the ledger grows, every
  `SHUHUI_LEDGER_CHECKPOINT_INTERVAL` seconds (60). `shuhui serve` runs the checkpointer in a
  thread of each worker (the app's lifespan; one at start-up if none is due, so there is one to
  read), ticking every second; a command that readied the database (`data load`, `synth`,
  `demo`, `users …`, `db upgrade`) signs one over what it recorded as it ends. An exclusive lock
  on `<data dir>/ledger/checkpoint.lock` and the size as primary key keep two workers from
  signing or publishing one size twice. The signed text is a C2SP tlog-checkpoint: origin
  `<SHUHUI_LEDGER_ORIGIN>/<hash>` (`shuhui.local/audit-ledger/sm3`), size, base64 root; signed
  with SM2 (ID 1234567812345678) by the platform key in `<data dir>/keys/platform-sm2.pem`
  (OpenSSL verifies it; a test does), as a signed-note line of type `0xff` + `shuhui/sm2-sm3/v1`
  (signed-note has no SM2 type byte). Checkpoints signed before this form (`shuhui audit
  ledger\n<alg>\n<size>\n<root>\n`) still verify.
- Published outside the database: every checkpoint is appended (`O_APPEND`, `fsync`) to
  `<data dir>/ledger/checkpoints.log` as a signed note, and every checkpointed leaf hash to
  `<data dir>/ledger/leaves.bin` (32 bytes each), before it is pushed to the witnesses in
  `SHUHUI_LEDGER_WITNESSES` (`<URL> <vkey>`, comma-separated) as a C2SP tlog-witness
  `add-checkpoint` with the consistency proof from the size each last cosigned. Cosignatures
  (Ed25519 cosignature/v1) are checked, stored in `ledger_cosignatures` and appended to the file;
  a witness that is down is logged and asked again an interval later, and never holds up a write.
  `shuhui audit witness serve --data DIR --log <vkey from shuhui audit log-key>` is such a
  witness, with its own key and state (`witness`).
- `GET /api/v1/ledger/checkpoint` reads the newest checkpoint (404 before the first): JSON, the
  signed note with cosignatures as `text/plain`, or with `?old=N` an `add-checkpoint` body from
  size N, for a witness that polls. Proof endpoints serve RFC 9162 inclusion and consistency
  proofs; entries (with their exact bytes, base64) are for admins and data-bureau operators,
  since subjects are people. The admin's page `/admin/ledger` runs the checkpointer now behind a
  POST button and verifies a ledger of up to 100,000 entries in the request, pointing to
  `shuhui audit verify` beyond.
- `shuhui audit verify [--witness DIR|URL]…` recomputes every leaf hash from the stored bytes,
  checks the bytes are canonical and agree with the queryable columns, rebuilds the tree from the
  bytes and checks every checkpoint's signature and root; then (`audit`) holds the tree against
  the published file and the witnesses' checkpoints: a size beyond the stored entries names the
  first deleted entry, a root the entries no longer give names the first rewritten one (the
  leaves mirror, authenticated by that root, compared top-down), a file record without a valid
  signature or out of order is a finding, and so is a checkpoint the file has and the database
  lost. It says in Chinese how many entries no checkpoint covers yet, and exits 1 on any finding.
- Written today: platform key issued, account created, roles changed, account updated,
  disabled, enabled, password changed, reset or set, account locked and address locked
  after wrong passwords (actor `system`), seal created
  (key issued), seal used, seal revoked, data loaded, personal key
  issued/registered/revoked, and for every mandate and certificate-use authorisation:
  created, signed, used, refused, checked, verified, revoked, expired, exhausted.
  Those entries carry the authorisation's code as `grant` and the principal (citizen
  ID or credit code) as `subject`; the principal's 谁用了我的数据 page reads the ledger by
  subject, an authorisation's page by grant (both indexed).
- `shuhui db upgrade` (and `demo`, `serve`, `data load`, `synth`, which ready the
  database the same way) settles the hash, then
  `trust.ledger.keys.ensure_platform_key` (called by
  `trust.ledger.setup.ready_database`) issues the platform key: the `key.issued` entry
  (subject: the key's SM3 fingerprint) is committed before the key file appears, and a
  key file found without an entry is recorded then. So a freshly set-up ledger is
  never empty. The web app only loads the key; if none is there it makes one and logs
  a warning.
- Every table version that `shuhui data load`, `synth` or `demo` publishes is one
  `data.loaded` entry (subject `table:<name>`; version, rows, source, SM3 of the
  version's manifest), written after publishing. The data core cannot import the
  ledger, so the top-level CLI hands it the recorder (the `LoadLedger` in
  `datacore.cli.CommandContext`); a refused load records nothing.
"""
