"""The city's data standard: what every table of the data core holds, read by all who use it.

:mod:`~shuhui.standard.tables` has the spec of every table (columns, types, Chinese titles,
personal-information flags, vocabularies, providing department, primary key),
:mod:`~shuhui.standard.columns` the columns written alike in many tables, and
:mod:`~shuhui.standard.vocabularies` the closed value sets the specs use. The data core's CLI,
the rules, the programs and the synthetic city's generator read it; it reads only the data
core's schema types.
"""

from shuhui.standard.tables import TABLES

__all__ = ["TABLES"]
