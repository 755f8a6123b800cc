"""Accounts, roles and login sessions: ``models``, ``schemas``, ``service``, ``deps`` (the
current user, role checks, the session cookie, the forced password change), ``throttle`` (the
delay and lockout after wrong passwords, per account and per address), ``routes`` (the accounts
API), ``pages`` (login, my account, my password), ``admin_pages`` (account admin), ``cli``
(``shuhui users …``), ``demo`` (the demo accounts, from the city's content).

- A person changes their own password (the old one is asked; the rules are
  ``schemas.PASSWORD_RULES``); their other sessions end.
- An admin edits an account (name, department), changes its roles, disables it (it cannot log
  in, and its sessions end) or enables it, or resets its password: the platform makes a
  temporary one, shown once; every session ends, and until the person sets a new password every
  page but ``/account/password`` redirects there and every call is refused
  (``password-change-required``). The last active admin can be neither disabled nor demoted.
- Every change is a ledger entry with the admin as actor (``cli:<login>`` at the command line),
  in the request's transaction.
- Wrong passwords: see ``throttle`` (delay after 3 per account, lockout for 15 minutes after
  10; after 10 and 30 per address). A refusal is problem+json with ``Retry-After``
  (``login-throttled`` 429, ``account-locked`` 423), answered rather than raised so that the
  failure counted is committed.
"""
