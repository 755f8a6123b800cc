"""The demo's people as members of the demo city, so each flow works from their pages.

``shuhui demo`` creates the demo accounts (``trust.identity.demo``) and builds the city; then
:func:`shuhui.demo.city.prepare` gives each account what its flow starts from, as the
accounts' ``demo_city`` in ``content/<city>/demo-accounts.yaml`` says:

- ``{offer: <policy>}`` (the citizen, the enterprise): the account becomes the member of the
  city eligible for the policy on the day with the lowest ID (a Qingdao-born resident first; a
  live enterprise acting through its registered legal representative) that is no other
  account's, and takes their name (the ID bound as every binding is: the demo admin requests
  it, the demo identity reviewer approves, both in the ledger); the policy's campaign is run
  by the demo officer of the implementing department, over the whole city (its other
  candidates are that officer's work), and that member is confirmed, so the offer waits in
  为我推荐的政策.
- ``{grant: <product>}`` (the bank, the research institute): the institution is registered as a
  data consumer, joins the product's zone (a data-bureau operator approves), applies for the
  product (with the purpose, legal basis and usage the content names beside ``grant``, else a
  bank's credit checks), and the providing department's officer and the operator approve: its
  console holds a grant to issue a key for.

Then :func:`shuhui.demo.approval.prepare` gives smart approval (智审慧办) its demo: a seeded
history of about a hundred cases over the past 40 working days (``shuhui.demo.history`` plans
it), waiting for each deciding department's demo officer at every step, and the agent
``daiban`` holding the demo enterprise's signed mandate; its e-licences reach the data core in
one version afterwards (``publish_licences``, a transaction of its own). The uploaded materials
are sample pages with real pre-checks kept beside the code (``shuhui.demo.prechecks``).

Fund-risk checks (``shuhui.demo.fundrisk``) run today's detection as ``auditor`` and take some
of each rule's alerts through their steps (confirmed and recovered in part or whole, dismissed,
being checked); the data-asset registry (``shuhui.demo.assets``) holds datasets the operator
registered over the past months, accepted by ``operator2`` and valued, one still waiting; and
the data channel (``shuhui.demo.channel``) has a consumer, ``research``, onboarded months ago
whose calls since are metered and whose past months are billed — so the maps and the leaders'
dashboard have figures from every module.

Safety monitoring (``shuhui.demo.monitor``) raises three alarms through the telemetry store and
the alarm engine and takes them to different states as ``duty``, ``forestry`` would (one
waiting to be acknowledged, one dispatched to the fire brigade, one closed); ``live`` runs the
broker, a consumer and a gentle simulator beside ``shuhui demo --serve``.

Everything goes through the domains' ``service`` functions, with the ledger entries the same
clicks would write, in the caller's transaction. It reads the data core through ``DataCore``
only (never the generator). Run again, it changes nothing: an account already bound and
offered the policy, a consumer already granted the product, are left as they are; with
``rebind`` (``shuhui demo --rebuild``: a new city) the members are chosen again.

Only ``shuhui.cli`` and the tests call it.
"""
