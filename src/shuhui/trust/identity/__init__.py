"""Accounts, roles and login sessions: ``models``, ``schemas``, ``service``, ``bindings``,
``deps`` (the current user, role checks, the session cookie, the forced password change),
``throttle`` (the delay and lockout after wrong passwords, per account and per address),
``routes`` (the accounts API), ``pages`` (login, my account, my password), ``admin_pages``
(account admin), ``binding_pages`` (approving bindings), ``cli`` (``shuhui users …``), ``demo``
(the demo accounts, from the city's content).

- A person changes their own password (the old one is asked; the rules are
  ``schemas.PASSWORD_RULES``); their other sessions end.
- An admin edits an account (name, department), changes its roles, disables it (it cannot log
  in, and its sessions end) or enables it, or resets its password: the platform makes a
  temporary one, shown once; every session ends, and until the person sets a new password every
  page but ``/account/password`` redirects there and every call is refused
  (``password-change-required``). The last active admin can be neither disabled nor demoted.
- Binding a citizen ID or credit code to an account (at creation or later) takes two people
  (``bindings``, ``binding_pages``): an admin requests it (or the operator, ``shuhui users add``),
  and another admin or an ``identity_reviewer`` (身份核验员) approves or rejects it at
  ``/admin/bindings`` (a to-do on their workbench); nobody decides their own request. Until
  approved the account is not bound. The request, the decision and every refused decision are
  ledger entries (``account.binding_*``).
- Whether the holder chose the password (``User.password_by_holder``): only a person's own
  change sets it. A password an admin set (creating the account, a reset) or the operator set
  (``shuhui users passwd``) is known to them, so ``trust.authorisations`` refuses to sign with it
  and, on a reset, revokes the person's platform-held signing key (a listener registered with
  ``service.on_password_set_for``). The demo's accounts alone count as the holder's (fictional
  personas; ``demo``).
- Every change is a ledger entry with the admin as actor (``cli:<login>`` at the command line),
  in the request's transaction.
- Wrong passwords: see ``throttle`` (delay after 3 per account, lockout for 15 minutes after
  10; after 10 and 30 per address). A refusal is problem+json with ``Retry-After``
  (``login-throttled`` 429, ``account-locked`` 423), answered rather than raised so that the
  failure counted is committed.
"""
