"""Mandates (委托授权) and certificate-use authorisations (用证授权), signed with SM2 and
recorded in the ledger. Other domains call ``service``; ``routes`` (API) and ``pages`` validate
through ``schemas``.

How it works

- One table, `authorisations`, for both kinds; `document` holds the exact RFC 8785
  bytes the signatory signed (principal, grantor, signatory, grantee, scope, actions,
  purpose, window, uses, sub-delegation, parent, issue time), and the columns repeat
  them. Every decision rebuilds the document from the columns, compares the bytes and
  verifies the SM2 signature of every link, so a row edited in the database allows
  nothing. `GET /api/v1/authorisations/{code}/envelope` gives document, signature and
  public key for `openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt
  distid:1234567812345678` (a test runs it).
- States: pending (drafted) → active (signed) → revoked / expired / exhausted. Expiry
  is a fact of time: readers use `effective_status`, and the first reader after the
  end records it (`settle`).
- Who may sign for an enterprise comes from the business register:
  `trust.authorisations` declares the `EnterpriseRegistry` protocol, and
  `web.registry.DataCoreEnterprises` answers it from the data core's `enterprises`
  table (trust does not import the data core).
- Service items (事项) and certificate types come from `content/<city>/`
  (`core.content`: each item has validity dates and the reference to its legal text;
  the app checks the files at startup). A mandate may only name delegable items in
  force for the principal's kind.
- The purpose rule (`purposes`): a data-channel call about a person is answered only when
  its purpose, the grant's approved purpose and the person's certificate-use purpose are the
  same word for word. Drafting a certificate-use authorisation for a relying party that holds
  channel grants refuses any purpose but one of those approved (page and API); the page
  offers them as a choice. The web app binds `purposes.ApprovedPurposes` to the channel.
- A refusal is a ledger entry too: `record_use` writes it in the request's
  transaction, and the route returns (not raises) the 403
  `/problems/authorisation-refused` with `reason`, `chain` and `at_fault`, so the
  request's commit keeps the entry.
"""
