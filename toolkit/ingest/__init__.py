"""Log ingestion: any OCPP log shape and version -> one tidy Parquet dataset.

Public API: :func:`ingest`, :class:`IngestOptions`, :class:`IngestSummary`;
the tables are documented in :mod:`toolkit.ingest.model`, the readers in
:mod:`toolkit.ingest.readers`.
"""

from toolkit.ingest.pipeline import IngestOptions, IngestSummary, ingest

__all__ = ["IngestOptions", "IngestSummary", "ingest"]
