"""The data-asset registry (数据资产登记): applications to register a catalogued dataset or a data
product as a data asset, their review and sealed certificates, and valuations with their workings.

``models`` (the table), ``schemas`` (what the API and the pages take in), ``service`` (the
registration workflow and storing valuations), ``valuation`` (the methods, pure), ``routes``
(the API), ``pages`` (the pages and certificate files), ``templates/``.
"""
