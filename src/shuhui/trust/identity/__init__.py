"""Accounts, roles and login sessions: ``models``, ``schemas``, ``service``, ``deps`` (the
current user, role checks, the session cookie), ``routes`` (the accounts API), ``pages`` (login,
my account, account admin), ``demo`` (the demo accounts, from the city's content)."""
