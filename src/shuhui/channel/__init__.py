"""The data channel (数据通道): zones, consumers, access applications and grants, data products
computed on the data core ("usable but not visible"), API keys, rate limits, metering, billing.

How it works

- Zones (`content/<city>/channel-zones.yaml`: 金融专区, 医疗专区, 公共治理专区) say which kinds of
  institution may join; the data bureau approves each membership. An access
  application names products, one purpose, its legal basis, the usage (public
  governance: free; industry: paid) and a duration; the providing department reviews
  it first (an officer whose department is the product's provider), then the bureau
  (approve, reject, or return for more, with reasons). The bureau's approval creates
  the grant (consumer, products, output fields, purpose, window, rate per minute,
  monthly quota, privacy budget). An officer sees only the applications made of their
  department's data (with their purpose and legal basis: the list,
  `GET /api/v1/channel/applications/{code}` and the review pages; another department's is
  not found, 404); the bureau sees all.
- API keys are `shk_<prefix>_<secret>`: the secret is shown once, stored as SHA-256,
  scoped to some of the consumer's grants, rotatable (the old key stops at once) and
  revocable.
- The gateway (`gateway`; a call's refusal codes, limits and outcome in `calls`) decides each
  call in a fixed order, and meters and audits every outcome before it answers: key (401) →
  per-minute rate and monthly quota, counted (`limits`) by one
  `INSERT … ON CONFLICT … RETURNING` per call so any number of workers share the
  counts (429 with `Retry-After`, and `X-RateLimit-*` on every answer) → product,
  purpose, grant window, zone membership (403) → the body and its parameters (422
  `invalid-params`, naming `body`, `purpose` or `params.<name>`) → for products about one subject,
  `trust.authorisations.service.decide_cert_use` with the consumer as relying party
  and the call's purpose (403 `authorisation-refused`; the refusal or use is recorded
  by `record_use`, so the person sees it at 谁用了我的数据) → for noised products, the
  consumer's privacy budget (403 `privacy-budget-spent`, below) → the answer. Each answer's
  ledger entry carries the consumer, product, subject, purpose, grant and the SHA-256
  of the answer; `channel_calls` holds the metering that statements and the dashboard
  read.
- A call's round trips (issue 23; the same statements on SQLite, one after another): the
  decision reads twice, in autocommit on PostgreSQL (`core.db.reads_factory`): the
  channel's revision, then the authorisations with their signers' keys. The write phase
  (`gateway.record_calls`, for the calls a worker's `writes.GroupWriter` found waiting)
  sends in one round trip what needs an answer — each call's use (a chain of one link),
  the key's counters, the audit ledger's head bumped for one entry a call, locked in that
  order so that the rows every writer wants are held shortest — and the ledger entries
  and the metering with the COMMIT (`core.db.transaction(defer=True)`), in a second.
- No body fails a call (`payload`): one that is not JSON, nested more than 8 deep, or holds
  a lone UTF-16 surrogate or a NUL in any string or key, an integer outside 64 bits or a
  number that is not finite is refused like any malformed parameter — once the key is
  known, so the refusal is metered against the consumer and in the ledger; nothing of it
  reaches the ledger's canonical JSON, PostgreSQL or the answer.
- Only answered calls spend the monthly quota. Every call with a valid key counts in its
  minute (the rate limit); the key's month has two counters, answered calls (the quota)
  and refused calls (rate limit, quota, parameters, consent… never billed). A call is
  counted as an answer when it is decided as one and given back if a limit or a
  consent's last use refuses it after all. Both figures are in `X-Quota-Used` and
  `X-Quota-Refused` beside `X-Quota-Limit`/`-Remaining`, and on the console's keys (本月已用
  x / 配额 y 次，另有 z 次被拒绝（不计入配额）). Once the quota is spent, every call is 429.
- Data products are content: `prepare` is DuckDB SQL over the data core, run once per
  version of its tables (and per day), copied into an in-memory SQLite table per
  worker that holds nothing else and is query-only; `answer` is SQLite SQL run per
  call over that table (`subject_rows` for a subject's rows, through an index).
  DuckDB's per-query setup (0.4–3 ms) made it the wrong engine for a keyed lookup;
  SQLite answers in about 20 µs. Subject answers are one computed row; aggregates drop
  groups smaller than k (10), withhold a count that is, or whose complement in the
  group is, between 1 and k − 1, and add noise to counts (the privacy budget, below); open
  products return rows of a table the catalog lists as 无条件开放, without personal
  columns, and stop the moment the catalog closes it.
- The privacy budget (`privacy.py`; the guarantee and its limits: `docs/privacy-budget.md`).
  An aggregate with `privacy.epsilon` adds OpenDP's discrete Laplace noise to its counts
  (sensitivity: the number of counts, one person counting in one group; the scale from
  OpenDP's parameter search; the ε a release costs from the measurement's privacy map). The
  answer is released once and kept (`channel_privacy_releases`, keyed by product, normalised
  query, table versions and, for products reading `today`, the day): the same query on the
  same data is answered identically, so averaging calls gives nothing. Each new query spends
  ε from the consumer's budget for the product on the current table versions
  (`channel_privacy_budgets`, in millionths of ε); a repeat is free; a new table version
  starts a new budget, and a calendar month allows at most `privacy.versions_a_month`
  versions' budgets. The budget is the grant's (`privacy_budget`, set by the approving
  reviewer; the product's `privacy.budget` by default). A new query past it is refused —
  403 `privacy-budget-spent`, metered and in the ledger, spending nothing. Answers carry
  `X-Privacy-Budget-Total`, `-Remaining` and `X-Privacy-Epsilon-Spent`; the console shows
  隐私预算 剩余 x / 共 y. The lookups and the spend are part of the gateway's group write:
  two indexed reads per group, a conditional upsert on the version's and the month's budget
  per new query, no extra commit.
- Each providing department of an application's (non-open) products — and each organisation
  whose hosted product asks for its review — approves it before the bureau does; a returned
  application starts again from that first step when resubmitted.
- Hosted products (`hosted`; 数据托管): an organisation's own table in the data core's hosted
  section, offered at run time (`offer`, `withdraw`; `channel_hosted_products`, migration
  0038) rather than declared in content, and then a product like the others (kind `hosted`):
  applied for, reviewed, granted, keyed, called, metered and billed the same way. Its rows are
  prepared from that one table (the preparing DuckDB sees nothing else), filtered per call by
  the key columns the provider declared (indexed; a personal column may not be one), a page at
  a time; personal columns leave masked. Its provider is an organisation named by credit code
  (`Product.provider_code`): with conditional terms it reviews each application first (the
  `provider` step, beside the departments' `department` steps), then the bureau approves and
  the grant follows; with open terms the bureau alone. The provider sees its products' calls
  and amounts per consumer and month (`billing.provider_statement`, the consumers' own
  statement figures, sealed ones once issued). Offering and withdrawing bump the channel's
  revision; each process keeps the hosted products as of a revision (`HostedProducts`), and
  the gateway looks one up at the revision its key cache read already, so a hosted product
  adds no database round trip to a call. `CityChannel.current(db)` (`deps.city_now`) is the
  city with them, for everything else that names products. Withdrawn, a product stays known
  (its calls stay billed) but the next call is refused (403 `product-withdrawn`, metered and in
  the ledger) and no one may apply for it. A hosted product's call entries name its provider
  as their subject, so the provider finds every use of its data in the ledger.
- Statements price a month's answered calls per product: cumulative tiers for industry
  use (the first tier's price up to its bound, and so on), the product's
  public-governance price (zero) otherwise. Until the month is issued they are
  computed from the metering rows with today's price list. Once a month is over, the
  bureau issues it (`issue_statements`, the dashboard's 月度结算 or `POST
  /api/v1/channel/statements/{month}/issue`): each consumer that called in it gets an
  `IssuedStatement` (`channel_statements`) — the RFC 8785 document and the e-seal
  envelope of the bureau's billing seal (`content/<city>/channel-billing.yaml`),
  created the first time — and a `channel.statement_issued` ledger entry with the
  document's SM3. From then on the statement is that document: a later price change or
  a late metering row does not touch it. Issuing again bills only consumers not yet
  billed; a seal that cannot be used issues none (one transaction). `GET
  /api/v1/channel/statements/{month}/sealed` gives the consumer the exact document
  text and the envelope, which `/api/v1/seals/verify` and OpenSSL verify.
"""
