"""Reference data shipped with the package (read through importlib.resources)."""
