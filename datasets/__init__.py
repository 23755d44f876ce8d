"""Sample logs, tariffs and datasets, shipped as package data (read with importlib.resources)."""
