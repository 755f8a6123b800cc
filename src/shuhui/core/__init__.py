"""Shared ground for every domain: settings, database, errors, identifiers, regions, clock, and
what a request body may be (``requestbody``)."""
