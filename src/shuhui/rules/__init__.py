"""Rules as code (规则即代码): policies as dated, referenced data, compiled to set-based SQL.

``loader`` reads and checks rule files, ``expressions`` the small expression language,
``compiler`` builds one query per rule and date, ``service`` runs it, ``explain`` says why for
one entity, ``testing`` runs rule tests written as data, ``cli`` is ``shuhui rules``.
"""
