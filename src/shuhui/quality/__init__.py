"""Data quality (数据质量) of the data core's tables, assessed in DuckDB.

:func:`shuhui.quality.checks.assess` reads a table's current version and returns a
:class:`shuhui.quality.report.QualityReport`: for each dimension (完整性 completeness, 有效性
validity, 唯一性 uniqueness, 一致性 consistency, 及时性 timeliness) a score 0–100 and the checks
behind it. The package knows the data core only; the catalog calls it and keeps the reports.

- ``report``: the report, its dimensions and their default weights;
- ``checks``: what the checks expect (references, ranges, ordered dates) and the assessment;
- ``sql``: the GB 11643 / GB 32100 / GB/T 2260 identifier checks as SQL expressions;
- ``masking``: how a failing personal value is shown.
"""
