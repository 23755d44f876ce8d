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
from tests.analysis.raw_logs import DAY, dataset
from tests.analysis.test_engines import (
    SAMPLES,
    TARIFF,
    assert_same_findings,
    differences,
    fleet_logs,
)

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")


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


def test_a_fleet_with_offline_gaps_agrees_under_a_period_an_inventory_and_a_site(
    spark: Any, tmp_path: Path
) -> None:
    dataset(fleet_logs(), tmp_path)
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        "charge_point_id,evse_id,connector_id,rated_power_kw,site\n"
        "CP-A,1,1,150,north\nCP-B,1,1,50,south\nCP-B,1,2,50,south\n"
        "CP-C,1,1,22,south\nCP-C,2,1,22,south\nCP-D,1,1,50,north\n",
        encoding="utf-8",
    )
    inv = load_inventory(inventory)
    period = (DAY + pd.Timedelta(minutes=30), DAY + pd.Timedelta(minutes=330))
    options = Options(period=period, port_rule="all", inventory=inv, tariff=TARIFF,
                      sites=["north", "south"], offline_after=pd.Timedelta(minutes=20))  # fmt: skip
    by_pandas = findings(tmp_path / "ds", options)
    by_spark = findings(tmp_path / "ds", options, "spark", spark=spark, batch_size=1)
    assert_same_findings(by_pandas, by_spark)
    # CP-A's offline gap (Spark SQL's window over frame times: 100-130 min, offline after
    # 20 of them) and CP-D, which sent nothing (a batch without rows)
    ports = by_spark.nevi.set_index(["charge_point_id", "evse_id"])
    assert ports.loc[("CP-A", 1), "unknown_min"] == pytest.approx(10)
    assert ports.loc[("CP-D", 1), "uptime_pct"] == 0
