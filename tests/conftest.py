"""Fixtures shared by test folders."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local-mode SparkSession for every Spark test of the worker (start-up is the
    slow part; the Spark tests are one xdist group, so one worker starts it). Skips only
    where no Java runtime exists; pyspark missing is a failure."""
    if shutil.which("java") is None:
        pytest.skip("no Java runtime: Spark needs one (Debian: openjdk-17-jre-headless)")
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pytest.fail("pyspark is missing: pip install -e '.[spark]' (python3 tasks.py test does)")
    from ocppkit.toolkit.analysis.engine_spark import session

    spark = session(
        "local[2]",
        {
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
            # Small data, few queries: the JVM's warm-up is the cost. The client compiler
            # only (no C2) and no whole-stage code generation cut a sample dataset's first
            # report from ~100 s to ~35 s on a loaded 2-core box. Test settings only: a
            # cluster's long jobs want both.
            "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
            "spark.sql.codegen.wholeStage": "false",
        },
    )
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()
