"""Id tokens can be hashed everywhere; both meter-value paths give the same rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ocppkit.toolkit.ingest import IngestOptions, ingest, meter_vector
from ocppkit.toolkit.ingest.flatten import MeterColumns
from ocppkit.toolkit.ingest.privacy import hash_token
from tests.ingest import fleet as F
from tests.ingest.helpers import table


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_hashed_id_tokens_appear_nowhere_in_clear(tmp_path: Path, version: str) -> None:
    fleet = F.make_fleet(seed=4, chargers=1, sessions_per_evse=2)
    log = F.write(fleet, version, "journal", tmp_path / "log")
    ingest([log], tmp_path / "ds", IngestOptions(workers=1, salt=b"s3cret"))
    tokens = {s.id_token for s in fleet}
    for name in ("frames", "sessions"):
        text = str(table(tmp_path / "ds", name))
        assert not any(t in text for t in tokens), name
    sessions = {r["transaction_id"]: r for r in table(tmp_path / "ds", "sessions")}
    for s in fleet:
        assert sessions[s.tx]["id_token"] == hash_token(b"s3cret", s.id_token)


SAMPLES: dict[str, list[dict[str, Any]]] = {
    "1.6": [{"timestamp": "2026-03-02T08:00:00Z", "sampledValue": [
        {"value": "12.5", "unit": "kWh"},
        {"value": "7.5", "measurand": "Power.Active.Import", "unit": "kW", "phase": "L1"},
        {"value": "11", "measurand": "Power.Active.Import", "unit": "kW"},
        {"value": "0AF3", "format": "SignedData", "context": "Transaction.End"},
        {"value": "n/a", "measurand": "Voltage", "unit": "V", "location": "Inlet"},
        {"value": "21.5", "measurand": "Temperature", "unit": "Celcius", "location": "Body"},
    ]}, {"timestamp": "2026-03-02T08:01:00+01:00", "sampledValue": [{"value": "12600"}]}],
    "2.0.1": [{"timestamp": "2026-03-02T08:00:00.250Z", "sampledValue": [
        {"value": 12.5, "unitOfMeasure": {"unit": "kWh"}, "context": "Transaction.Begin"},
        {"value": 7.5, "measurand": "Power.Active.Import",
         "unitOfMeasure": {"unit": "W", "multiplier": 3}},
        {"value": 3, "signedMeterValue": {"signedMeterData": "x", "signingMethod": "",
                                          "encodingMethod": "", "publicKey": ""}},
        {"value": 55, "measurand": "SoC", "unitOfMeasure": {"unit": "Percent"}, "location": "EV"},
    ]}],
    "1.5": [{"timestamp": "2026-03-02T08:00:00Z", "value": [
        {"value": "3", "unit": "Amp", "measurand": "Current.Import"},
        {"value": "12500"},
    ]}],
}  # fmt: skip


@pytest.mark.parametrize("version", list(SAMPLES))
def test_arrow_and_python_meter_paths_give_identical_rows(version: str) -> None:
    import orjson

    key = "values" if version == "1.5" else "meterValue"
    payloads = [{key: SAMPLES[version]}, {key: []}, {key: SAMPLES[version][:1]}]
    cols = meter_vector.flatten_group([orjson.dumps(p) for p in payloads], version, "MeterValues")
    n = len(payloads)
    vector = meter_vector.batch(
        cols,
        ["CP"] * n,
        [1] * n,
        [1] * n,
        ["7"] * n,
        "MeterValues",
        version,
        list(range(n)),
        pa.array(["f"] * len(cols["frame"])),
    )
    python = MeterColumns()
    summaries = [python.samples(p[key], version, "CP", 1, 1, "7", "MeterValues", i)
                 for i, p in enumerate(payloads)]  # fmt: skip
    from ocppkit.toolkit.ingest.rows import meter_batch

    expected = meter_batch(python, "f", None)
    drop = ["source_file"]
    assert vector.drop_columns(drop).to_pylist() == expected.drop_columns(drop).to_pylist()
    assert meter_vector.summaries(cols, n) == [s if s[0] is not None or s[2] is not None else None
                                               for s in summaries]  # fmt: skip
    assert cols["non_numeric"] == python.non_numeric


def test_units_and_multipliers_are_normalised() -> None:
    import orjson

    cols = meter_vector.flatten_group([orjson.dumps({"meterValue": SAMPLES["2.0.1"]})], "2.0.1",
                                      "MeterValues")  # fmt: skip
    rows = list(zip(cols["unit"].to_pylist(), cols["value"].to_pylist(), strict=True))
    assert rows == [("Wh", 12500.0), ("W", 7500.0), ("Wh", None), ("Percent", 55.0)]
    assert cols["signed"].to_pylist() == [False, False, True, False]
