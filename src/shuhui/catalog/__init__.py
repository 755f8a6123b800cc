"""The public data catalog (数据资源目录): ``models``, ``service``, ``search``, ``generate``,
``routes`` (the pages), ``cli``; CKAN's Action API and the DCAT-AP 3 export as adapters over it
(``ckan/``, ``dcat/``). Data quality is :mod:`shuhui.quality`, the data-asset registry
:mod:`shuhui.assets`."""
