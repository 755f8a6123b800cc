"""Shared ground for every domain: settings, database, errors, identifiers, regions, clock."""
