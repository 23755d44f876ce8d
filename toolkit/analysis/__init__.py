"""Analysis over an ingested dataset: the functions notebooks and the CLI share.

Modules: :mod:`.sessions` (session KPIs, utilisation), :mod:`.availability`
(NEVI and UK PCPR availability), :mod:`.anomalies` (meter anomalies for
billing), :mod:`.faults` (fault KPIs), :mod:`.costs` (tariffs applied to
sessions), :mod:`.dataset` (loading the Parquet tables), :mod:`.figures`
and :mod:`.report`.
"""
