"""Pension certification (养老保险待遇领取资格认证, 无感认证): once a year, each pensioner shown
alive by the data they leave, instead of being called in.

How it works: see ``docs/ARCHITECTURE.md`` and :mod:`.service` (the API), :mod:`.cycle` (the
run), :mod:`.config` (the content), :mod:`.models` (the tables).
"""
