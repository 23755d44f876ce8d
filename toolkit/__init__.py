"""ocppkit's I/O shell: gateway, ingestion, analysis, simulator and the CLI.

Everything here builds on the sans-I/O core in :mod:`translators`.
"""

from translators import __version__

__all__ = ["__version__"]
