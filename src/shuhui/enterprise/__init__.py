"""The industrial-internet enterprise service platform (工业互联网企业综合服务平台), the
digital-economy industry system, and enterprise data custody (企业数据托管).

The industry and IT bureau's platform serves enterprises on the data core the city already
governs; nothing here keeps a copy of a register.

- One enterprise, one file (一企一档, ``profile``): the registration, staff and insured headcount
  month by month (``monthly``: a derived table of approval's key indexes, made in DuckDB once
  per version of the spells and contributions), tax and electricity, e-certificates, the
  platforms that enabled it, the policies offered and granted (``programs``), its approval
  cases (``approval.service``), the alarms at its monitored plants (``monitor``). Every part is
  a keyed read that names its table and version. The enterprise reads its own file freely; an
  officer states a purpose and each look is an ``enterprise.profile_viewed`` entry the
  enterprise sees under 谁用了我的数据; ``shuhui enterprise profile CODE --json`` for an
  operator.
- Platforms and solutions (``platforms``): the city's 40 industrial-internet platforms, "one
  super, many specialised" (一超多专), their solutions and the capability vocabulary, as
  content; enablement per platform over time against the year's target, scaled to the city.
- The industry system (``industry``): layers, key fields, actions and tasks, parks as content;
  the project pipeline, the same-year signed-and-started share, output and growth by field and
  layer, figures cached per table version; the bureau's console (``console_routes``).
- The SME digital-level assessment (``assessment``, ``assessment_content``,
  ``assessment_facts``, ``assessment_routes``): the official questionnaire as content, answers
  pre-filled from the registers, the capabilities of the solutions the enterprise adopted and
  its previous assessment, each with its source; the level 1–4 and the gaps to the next.
- Needs (``needs``, ``matching``): an enterprise's 诉求 (financing, talent, digital
  transformation, land, market) matched to solutions, platforms and the rule book's enterprise
  policies with their conditions, routed by kind to the department that handles it with a time
  limit in working days, 受理 → 办理 → 办结 by that department's officers, rated once closed.
- Data custody (``custody``, ``custody_schemas``, ``custody_routes``): an enterprise hosts its
  own data as a checked load into a hosted table of its own, registers it in the catalog with
  its terms and offers it through the data channel as provider; it reviews applications, sees
  its statements and can withdraw the data, after which the next call is refused.

``service`` is what routes and pages call for needs; ``views`` shapes what they give;
``access`` says who is asking. The templates are ``templates/enterprise_*.html``.
"""
