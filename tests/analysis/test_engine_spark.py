"""The Spark engine gets the pandas engine's numbers, KPI by KPI (pyspark in local mode).

Spark runs for real: the fleet-wide figures as Spark SQL, the per-charger KPIs in
Python workers (``applyInArrow``), one batch of chargers per group. Few tests, on
one shared SparkSession (tests/conftest.py), because Spark is slow to start; they
skip only where no Java runtime exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ocppkit.toolkit.analysis.findings import Options, findings
from ocppkit.toolkit.analysis.inventory import load_inventory
from ocppkit.toolkit.analysis.report import render
from tests.analysis.test_engines import (
    SAMPLES,
    TARIFF,
    assert_same_findings,
    differences,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
    # About 25 Spark jobs a test: seconds on a quiet machine, minutes on a loaded 2-core one.
    pytest.mark.timeout(900),
    pytest.mark.xdist_group("spark"),  # one worker, one SparkSession (tests/conftest.py)
]


@pytest.mark.parametrize("root", SAMPLES, ids=lambda p: p.name)
def test_every_kpi_of_every_sample_dataset_is_the_same_by_spark_and_by_pandas(
    root: Path, spark: Any, tmp_path: Path
) -> None:
    options = Options(tariff=TARIFF)
    by_pandas = findings(root, options)
    by_spark = findings(root, options, "spark", spark=spark, batch_size=2)
    assert by_spark.engine == "spark" and by_spark.extra["batches"] >= 2
    assert_same_findings(by_pandas, by_spark)
    summaries = [render(f, tmp_path / f.engine, options) for f in (by_pandas, by_spark)]
    assert differences(*summaries) == []
    assert summaries[0]["sessions"]["sessions"] > 0 and summaries[0]["costs"]["sessions_priced"]


def test_a_sample_agrees_under_a_period_an_inventory_a_site_and_the_all_rule(
    spark: Any, tmp_path: Path
) -> None:
    # What the hand-made fleet test proved, on a sample: a period (counted by start, time
    # clipped), port rule "all", an inventory with a charger that sent nothing (a batch
    # without rows), sites, offline-after (Spark SQL's window over frame times).
    root = SAMPLES[0]
    whole = findings(root, Options())
    connectors = whole.scope.inventory.connectors
    inventory = tmp_path / "inventory.csv"
    rows = [f"{r.charge_point_id},{int(r.evse_id)},{int(r.connector_id)},50,north"
            for r in connectors.itertuples()]  # fmt: skip
    inventory.write_text(
        "charge_point_id,evse_id,connector_id,rated_power_kw,site\n"
        + "\n".join([*rows, "SILENT,1,1,50,south"])
        + "\n",
        encoding="utf-8",
    )
    period = (pd.Timestamp("2026-03-03T06:00:00Z"), pd.Timestamp("2026-03-04T12:00:00Z"))
    options = Options(period=period, port_rule="all", inventory=load_inventory(inventory),
                      tariff=TARIFF, sites=["north", "south"],
                      offline_after=pd.Timedelta(minutes=2))  # fmt: skip
    by_pandas = findings(root, options)
    by_spark = findings(root, options, "spark", spark=spark, batch_size=1)
    assert_same_findings(by_pandas, by_spark)
    assert 0 < by_spark.fleet["sessions"] < whole.fleet["sessions"]
    ports = by_spark.nevi.set_index(["charge_point_id", "evse_id"])
    assert ports.loc[("SILENT", 1), "uptime_pct"] == 0
    assert by_spark.scope.offline and by_spark.scope.offline_assessed
