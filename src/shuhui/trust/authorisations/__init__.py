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
- Signatures no administrator can make: signing (and registering one's own key) is refused,
  with a ledger entry (``<kind>.sign_refused``, ``key.refused``) and the problem 请先自行设置密码…,
  while the account's password is one someone else set (``identity``: ``password_by_holder``):
  an admin who created the account or reset its password knows it. A reset revokes the person's
  platform-held key at once (``keys``); authorisations signed before stay valid (a signature
  is checked against its key's revocation time), and a new key is issued at the first signature
  after the person has set their own password. Binding the citizen ID to an account takes a
  second person (``identity.bindings``). What remains: an admin who resets a password and then
  completes the forced change themself is indistinguishable from the person (the ledger shows
  the reset and the change; the person finds their password no longer works).
- A refusal is a ledger entry too: `record_use` writes it in the request's
  transaction, and the route returns (not raises) the 403
  `/problems/authorisation-refused` with `reason`, `chain` and `at_fault`, so the
  request's commit keeps the entry.
"""
