"""Valuing a data asset (数据资产评估) and how its holder accounts for it (数据资源入表).

Pure functions: no HTTP, no database. Each takes plain inputs, checks them (a bad one raises
``Problem("validation")`` naming every field at fault), and returns a frozen result that carries
every intermediate figure, a ``workings`` list of steps in Chinese and English, the texts it
follows, and ``as_dict()`` for JSON (decimals as strings).

- ``cost.cost_method`` (成本法, with the quality ``bands`` of the city's content),
  ``income.income_method`` (收益法), ``market.market_method`` (市场法) and
  ``reconcile.reconcile`` (several methods, one conclusion) follow 《数据资产评估指导意见》
  (中评协〔2023〕17号).
- ``accounting.accounting_view`` classifies the asset as the holder's books would under
  《企业数据资源相关会计处理暂行规定》(财会〔2023〕11号, from 2024-01-01) with CAS 6 (无形资产) and
  CAS 1 (存货). Books measure at cost: an appraised value is not a book amount.

Money is yuan as :class:`~decimal.Decimal` to the fen, rounded ROUND_HALF_UP. Every step that
yields a money figure rounds it, and the next step starts from the rounded figure, so the workings
add up exactly as shown and can be redone by hand. Rates and factors are used exactly as given;
floats are refused, so the same inputs always give the same figures (``common`` holds the
arithmetic, the references quoted and the input checks every method shares).
"""
