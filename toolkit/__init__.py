"""ocppkit's I/O shell: gateway, ingestion, analysis, simulator and the CLI.

Everything here builds on the sans-I/O core in :mod:`ocppkit.translators`.
"""

from importlib import metadata

try:
    __version__ = metadata.version("ocppkit")
except metadata.PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
