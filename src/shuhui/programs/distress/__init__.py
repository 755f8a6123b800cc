"""Struggling enterprises (困难企业): found from the city's data, reached with five measures.

How it works

The score is rule content, ``content/qingdao/policies/enterprise-difficulty.yaml`` (entity
``enterprise``): four signals, each a condition over figures the departments already hold —
contributions in arrears in the latest three months (人社), insured staff in the latest month
against six months before (人社), tax in the latest three months against the three before (税务),
electricity likewise (供电) — each comparison anchored on the latest month the source holds for
the enterprise, so a run on a day whose month is not reported yet still compares whole months.
Points per signal and the threshold are dated parameters with their references (unverified
where marked); the rule's *eligible* are the struggling, its amount is the score. The synthetic
city injects distress as shrinking business, layoffs and arrears; the rule reads only those
signals, never ``truth_enterprise_distress`` (only ``evaluation`` does).

A run (``service.run``; ``shuhui programs distress --date D``, the console, the API) scores every
enterprise on a date through ``rules.service`` and keeps the struggling with their score, the
signals that held and every figure the rule compared (``DistressRun``, ``DistressFinding``,
migration 0023). One run per date: asked again, it returns the run and writes nothing. An
officer's look at an enterprise re-explains the rule at the run's date down to the source rows
(``rules.explain``) and is a ``programs.distress_viewed`` ledger entry.

The five measures are content too (``content/qingdao/programs/enterprise-difficulty-measures
.yaml``): each names the signals it suits and the policies whose campaigns carry it
(``social-insurance-deferral`` and ``job-stabilisation-refund`` for contribution relief,
``skills-upgrading-subsidy`` for skills upgrading). Starting a measure (``start_measure``) runs
the chosen policy's campaign through ``programs.service.run_campaign`` with ``within``: only
the struggling enterprises the measure suits (for a person's policy, their current staff), so
there is one campaign machinery and the department confirms and offers as for any campaign.
Measures without a policy (supply-demand matching, employment assistance, shared employment) are
recorded as arranged. Each start is a ``programs.distress_measure_started`` entry per enterprise;
the enterprise sees the measures started for it on its workbench and at ``/hrss/distress/mine``.
"""
