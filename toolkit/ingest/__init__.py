"""Log ingestion: any OCPP log shape and version -> one tidy Parquet dataset.

Public API: :func:`ingest`, :class:`IngestOptions`, :class:`IngestSummary`;
the tables are documented in :mod:`ocppkit.toolkit.ingest.model`, the readers in
:mod:`ocppkit.toolkit.ingest.readers`.
"""

from ocppkit.toolkit.ingest.pipeline import IngestOptions, IngestSummary, ingest

__all__ = ["IngestOptions", "IngestSummary", "ingest"]
