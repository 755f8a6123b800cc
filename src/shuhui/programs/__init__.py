"""HR & social-security programs built on the rules engine: policy campaigns (政策找人).

How it works

A campaign (`Campaign`, code `ZC-…`) is one policy of the rule book run over the whole city
on an evaluation date by the department that implements it (`rule.department`; an officer of
another department gets 403). From the campaign console the run is a background job
(`tasks`, kind ``programs.campaign`` on `shuhui.jobs`: refused at once as the run would be,
then run by a worker in one transaction, its three steps the job's progress; the job's page
opens the campaign when done); the API's `POST /api/v1/programs/campaigns` runs it in the
request. `run_campaign` asks `rules.service.run` for the counts per
outcome and `rules.service.candidates` for the eligible and undetermined entities (filtered
in DuckDB), leaves out whoever already has a `BenefitGrant` for the policy, and inserts the
rest as `Candidate` rows (`pending`), with their amount and, for the undetermined, the
missing inputs. The department then confirms candidates (some, or every pending one) or does
not (with a reason); a confirmed candidate is offered: the offer shows in the recipient's
为我推荐的政策 (matched by citizen ID or credit code) and two messages (portal, SMS) wait in
`program_outbox` for the messaging gateway; the portal's are the recipient's 站内消息
(`messages`: read, marked read, counted unread for the header). What follows for the
recipient is in `recipients` (offers, the answer, the application and its review, the
grant). The recipient accepts (a `BenefitGrant` is recorded), declines (optionally saying
why), or — when the rule was undetermined — completes a short application, one answer per
missing input, asked and read by the input's type (a 是/否 choice, a number, a date;
`rules.language.parse_value`, a bad answer refused next to its field). The policy is then
evaluated again for that one entity with the answers in place of the missing inputs
(`applied_outcome`, `applied_amount`); the recipient sees the result at once, the department
reviews the explanation with the answers marked as the applicant's, and approves (granted,
with the amount the answers give) only when that outcome is eligible, or rejects (with a
reason). Every step is a ledger entry (`programs.campaign_run`, `.offered`, `.rejected`,
`.accepted`, `.declined`, `.applied`, `.application_approved/_rejected`, `.granted`),
written in the same transaction as the step, so a refused step leaves neither state nor
entry. Why a candidate qualifies is computed on demand by `rules.explain` at the campaign's
evaluation date (conditions with their values, the rows and table versions used, the
parameters in force); an officer reading it reads personal data, so that is a
`programs.explained` entry too, and the person sees all of these in 谁用了我的数据. The funnel
counts found → confirmed → answered → granted. The served process keeps one data-core
connection per set of table versions (`Library.connection`) and hands each caller a cursor
of it: opening DuckDB and making the views costs more than an explanation, and the cursors
share the Parquet footers already read; a replaced connection is closed when its last cursor
is done.

A department chooses whom a campaign takes (`scope`, stored on the campaign with
`candidate_limit`; migration 0012): `all` (eligible and undetermined, the default),
`eligible` (only those the data shows eligible: 免申即享, offered with nothing to apply
for) or `undetermined` (only those waiting on missing inputs, e.g. a follow-up
campaign), and optionally at most `limit` of them (1–1,000,000), the lowest keys. A
policy that cannot see one input finds millions undetermined in a city of ten million;
the scope and the limit keep a campaign from inserting and offering them all. Both go
into the query in DuckDB (`rules.service.candidates(…, outcomes=…, limit=…)`: a
`WHERE` on the outcome, a `LIMIT` after `ORDER BY key`). Those already granted are
left out before the limit counts: DuckDB returns `limit` plus as many rows as the
policy has grants (which are read into memory anyway), and at most that many are
dropped. `counts` and `missing` stay the rule's over the whole city, so the console
still shows how many a narrower campaign did not take; `excluded` counts the granted
passed over on the way to the candidates (with no limit, every one in the scope). The
API (`scope`, `limit` in `POST /api/v1/programs/campaigns`, both in every campaign
returned), the console's run form, the campaign page and the `programs.campaign_run`
ledger entry carry both; a bad value is a 422 naming the field.

Another program may narrow a campaign to its own list: ``run_campaign(…, within=keys)`` keeps
only those entities (the struggling enterprises a relief measure suits, ``programs.distress``;
the ledger entry says how many the list held). A rule that scores for a program rather than
grants a benefit (``service.NOT_OFFERED``: the enterprise-difficulty score) is never a
campaign: the console does not offer it and ``run_campaign`` refuses it (404, ``rule``).
Struggling enterprises and their measures are in ``programs.distress``.
"""
