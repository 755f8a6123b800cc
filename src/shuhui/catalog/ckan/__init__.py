"""CKAN's Action API over the catalog: the read actions, their parameters, and the dicts CKAN
returns, so CKAN clients (``ckanapi``, harvesters, portals) read the catalog unchanged. An
adapter: it reads the catalog through its models, service and search, and nothing in the
catalog depends on it.

No HTTP but in ``routes``: :func:`shuhui.catalog.ckan.api.call` takes the parameters as CKAN
receives them (query string or JSON body, already merged into one dict) and returns the status
and the encoded ``{"help", "success", "result"}`` envelope. Failures are CKAN's error envelope,
with CKAN's status codes (404 Not Found Error, 409 Validation Error naming each field, 403
Authorization Error); they also carry the platform's problem-details members (``type``,
``title``, ``status``…), so one body serves CKAN clients and problem+json clients alike.

What is public: the catalog's metadata, and through ``datastore_search`` the rows of datasets
whose class is open unconditionally (无条件开放) and that have a data-core table, without their
personal-information columns. Personal columns are neither listed, nor returned, nor usable in
``filters``, ``q`` or ``sort``.

``package_search`` is the hot path: the search runs on the in-process index, each package
dict is encoded once per catalog revision and kept, and so is each whole answer, keyed by the
request's query string (:class:`~shuhui.catalog.ckan.context.PackageCache`): a portal's home
page, its popular words and its facet links are asked again and again between two catalog
changes.

``params`` (limits, parameters), ``context`` (a call's context, the cache), ``dicts`` (what
CKAN returns), ``actions`` (the catalog's actions and their registry), ``datastore``
(``datastore_search``), ``api`` (calling an action), ``routes`` (``/api/3/action/…``).
"""
