"""HR & social-security services (智慧人社 · 一网通办): what people ask the bureau for most,
on the data core and the approval machinery.

Built so far:

- **A person's record** (个人权益记录, ``records``): enrolments, monthly contributions per unit
  and insurance type, pensions and unemployment benefits paid, read by citizen ID through the
  approval domain's key indexes (``approval.lookups``), each part naming its table and version.
- **参保证明** (``certificates``): the certificate of insured status as an A4 PDF under the
  social-insurance agency's e-seal (``trust.seals``), stored owner-only with its hash, verifiable
  by anyone at ``/seals/verify`` or offline with ``shuhui seal verify``; the document's title,
  issuer, number prefix, periods and readers are content (``content/<city>/hrss/documents.yaml``).
- **Who may** (``service``): a person reads their own record and issues their own certificate;
  an officer of a department the content names reads anyone's, with a purpose, each read and
  each certificate a ledger entry the person sees.
- **Where**: ``/api/v1/hrss/…`` (``routes``), 我的社保 ``/hrss/record`` and the counter's 社保查询
  ``/hrss/counter`` (``pages``), ``shuhui hrss certificate`` (``cli``).

The domain template's shape: ``models`` (``hrss_certificates``), ``schemas`` (what is taken),
``views`` (what is given, for the API and pages alike), ``service``, ``routes``, ``pages``,
``templates/``.
"""
