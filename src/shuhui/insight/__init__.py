"""Insight (数据洞察): the city's indicators, the five maps (五张图) and the leaders' dashboard.

What it is
==========

Qingdao's HR and social-security bureau builds "five maps" for its digital transformation —
data assets, government services, risk control, operations management and decision support —
and the city's leaders want the same for the whole plan (infrastructure, safety alarms, the
digital economy). Each map is a page of figures; each figure is an *indicator* a city
configures as content, and every figure on any page, in the API, the CSV, the PDF report and
the CLI comes from the one engine, so the same number is the same everywhere and can be traced
to its definition and inputs ("怎么算的？" on every figure).

How it works
============

- ``content``: the maps (``insight/maps.yaml``, with the indicators each puts on the dashboard)
  and the indicators (``insight/indicators/<map>.yaml``), checked whole; each indicator with its
  口径, its formula (SQL over the data core reading named tables, or a domain's measure), unit,
  owner department, refresh policy, aggregate (a sum, or a ratio of sums with its scale),
  whether it counts people, its targets and the reference to its legal or planning text.
- ``measures`` and ``measures_<map>``: the domains' figures an indicator may name, read through
  each domain's ``facts`` module (never its tables), each saying in words how it is computed.
- ``engine``: facts computed once per source version and kept (``live``: follow the sources;
  ``hourly``/``daily``: at most that often), summed for a scope and broken down by district,
  month and group; the previous period and the target; cells below k people withheld.
- ``service``: a ``Reader`` per request (the data core opened once, the ledger's size read
  once); a failing figure is shown as such and never takes its page down; the list behind a
  figure for the owner department's officers, each view in the ledger.
- ``report``: the monthly analysis report of a map as a PDF, its charts drawn in.
- ``routes``, ``pages``, ``cli``: thin; the leaders' dashboard at ``/dashboard``.

Privacy: leaders see aggregates; a figure counting people never shows a cell of fewer than
k = 10 people (``core.suppression``, the data channel's rule, its complement included).
"""
