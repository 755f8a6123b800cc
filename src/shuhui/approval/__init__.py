"""Smart approval (智审慧办): service items, processes, forms filled with provenance, the
pre-check of materials, cases, e-licences, ratings and metrics.

This package is being built (issue 18); its modules' docstrings say what each holds.
"""
