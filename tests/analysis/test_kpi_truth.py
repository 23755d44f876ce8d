"""KPIs against truth computed by hand from raw log lines (ingest -> scope -> KPI).

Each test writes the lines a charger and its CSMS exchange, ingests them as
any log would be, and compares the KPI with the arithmetic in its comment.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ocppkit.toolkit.analysis.availability import nevi_uptime
from ocppkit.toolkit.analysis.chargex import attempts, chargex_kpis
from ocppkit.toolkit.analysis.inventory import load_inventory, map_legacy_connectors
from ocppkit.toolkit.analysis.scope import build_scope, heartbeat_intervals, port_intervals
from ocppkit.toolkit.analysis.sessions import port_utilisation
from tests.analysis.raw_logs import DAY, Log, dataset

END = 24 * 60


def day_log(cp: str = "CP1") -> Log:
    log = Log(cp)
    log.boot(0)
    log.status(0, 1, "Available")
    log.heartbeats(5, END)
    return log


def uptime(data, **options) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    scope = build_scope(data, **options)
    return nevi_uptime(port_intervals(data, scope, options.pop("port_rule", "any")))


def test_a_24_hour_log_with_one_6_minute_fault_has_99_58_percent_uptime(tmp_path: Path) -> None:
    log = day_log()
    log.status(600, 1, "Faulted", "GroundFailure")
    log.status(606, 1, "Available")
    data = dataset([log], tmp_path)
    scope = build_scope(data)
    # The period is the first to the last frame: boot at 00:00, last heartbeat at 24:00.
    assert (scope.start, scope.end) == (DAY, DAY + pd.Timedelta(minutes=END))
    # Boot answer interval 300 s -> offline after 3 x 300 s; heartbeats every 5 min: never.
    assert heartbeat_intervals(data.frames) == {"CP1": 300.0}
    assert scope.offline == {}
    row = nevi_uptime(port_intervals(data, scope)).iloc[0]
    # (1440 - 6) / 1440 = 99.583 %
    assert (row.total_min, row.outage_min, row.unknown_min) == (1440, 6, 0)
    assert round(row.uptime_pct, 2) == 99.58


def test_the_period_counts_heartbeats_after_the_last_event(tmp_path: Path) -> None:
    log = Log()
    log.boot(0)
    log.status(0, 1, "Available")
    log.heartbeats(5, 600)  # events stop at 00:00; ten hours of heartbeats follow
    data = dataset([log], tmp_path)
    assert build_scope(data).end == DAY + pd.Timedelta(minutes=600)


def test_silence_longer_than_the_threshold_is_offline_and_unknown(tmp_path: Path) -> None:
    log = Log()
    log.boot(0, interval=60)  # -> offline after 3 min of silence
    log.status(0, 1, "Available")
    log.heartbeats(1, 100, every=1)
    log.heartbeats(130, 200, every=1)  # silent from 100 to 130
    data = dataset([log], tmp_path)
    row = uptime(data).iloc[0]
    # 200 min period; offline from 100 + 3 to 130 = 27 min
    assert (row.total_min, row.unknown_min, row.outage_min) == (200, 27, 27)
    # --offline-after 30 min: the 30-minute gap is not longer than it, nothing is offline
    assert uptime(data, offline_after=pd.Timedelta(minutes=30)).iloc[0].outage_min == 0


def test_an_explicit_period_reports_time_without_frames_as_unknown(tmp_path: Path) -> None:
    data = dataset([day_log()], tmp_path)
    period = (DAY - pd.Timedelta(hours=12), DAY + pd.Timedelta(hours=24))
    row = uptime(data, period=period).iloc[0]
    # 12 h before the first frame: no data, an outage under NEVI (not shown up)
    assert (row.total_min, row.unknown_min, row.outage_min) == (2160, 720, 720)
    assert row.uptime_pct == pytest.approx(100 * 1440 / 2160)


def test_a_port_with_two_connectors_is_up_while_one_of_them_is(tmp_path: Path) -> None:
    log = day_log()
    log.status(0, 2, "Available")
    log.status(600, 2, "Faulted", "ConnectorLockFailure")  # 10:00-12:00 connector 2 broken
    log.status(720, 2, "Available")
    log.status(900, 1, "Faulted", "GroundFailure")  # 15:00-15:30 both broken
    log.status(900, 2, "Faulted", "GroundFailure")
    log.status(930, 1, "Available")
    log.status(930, 2, "Available")
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        "charge_point_id,evse_id,connector_id,rated_power_kw,site\n"
        "CP1,1,1,150,Depot\nCP1,1,2,150,Depot\n",
        encoding="utf-8",
    )
    data = dataset([log], tmp_path)
    inv = load_inventory(inventory)
    any_rule = uptime(data, inventory=inv)
    # One port. "any": only 15:00-15:30 is down -> (1440 - 30) / 1440
    assert list(zip(any_rule.charge_point_id, any_rule.evse_id, strict=True)) == [("CP1", 1)]
    assert any_rule.iloc[0].outage_min == 30
    # "all": 10:00-12:00 and 15:00-15:30 -> 150 min
    scope = build_scope(data, inventory=inv)
    assert nevi_uptime(port_intervals(data, scope, "all")).iloc[0].outage_min == 150
    # Without the inventory each 1.6 connector is a port of its own.
    inferred = uptime(data)
    assert list(inferred.evse_id) == [1, 2] and list(inferred.outage_min) == [30, 150]


def test_a_201_evse_with_two_connectors_is_one_inferred_port(tmp_path: Path) -> None:
    log = Log(version="2.0.1")
    log.boot(0)
    log.status201(0, 1, 1, "Available")
    log.status201(0, 1, 2, "Available")
    log.status201(60, 1, 2, "Faulted")
    log.heartbeats(5, END)
    data = dataset([log], tmp_path)
    result = uptime(data)
    assert list(result.evse_id) == [1] and result.iloc[0].outage_min == 0
    assert build_scope(data).inventory.inferred


def test_an_inventory_port_that_never_reports_is_in_every_table(tmp_path: Path) -> None:
    log = day_log()
    log.authorize(60)
    log.start(60, 1, 7, 0)
    log.status(60, 1, "Charging")
    log.status(180, 1, "Finishing")
    log.stop(180, 7, 22000)
    log.status(181, 1, "Available")
    inventory = tmp_path / "inventory.toml"
    inventory.write_text(
        '[[connector]]\ncharge_point_id = "CP1"\nevse_id = 1\nrated_power_kw = 22\n'
        '[[connector]]\ncharge_point_id = "CP1"\nevse_id = 2\nrated_power_kw = 22\n'
        '[[connector]]\ncharge_point_id = "CP9"\nevse_id = 1\n',  # a charger never heard of
        encoding="utf-8",
    )
    data = dataset([log], tmp_path)
    inv = load_inventory(inventory)
    scope = build_scope(data, inventory=inv)
    nevi = nevi_uptime(port_intervals(data, scope))
    assert list(zip(nevi.charge_point_id, nevi.evse_id, strict=True)) == [
        ("CP1", 1),
        ("CP1", 2),
        ("CP9", 1),
    ]
    silent = nevi[nevi.evse_id == 2].iloc[0]
    assert (silent.total_min, silent.unknown_min, silent.uptime_pct) == (1440, 1440, 0.0)
    assert nevi.iloc[2].unknown_min == 1440  # CP9 sent nothing: the fleet's whole day
    fleet, per_port = port_utilisation(map_legacy_connectors(data.sessions, inv), scope.ports)
    assert len(per_port) == 3 and list(per_port.sessions) == [1, 0, 0]
    # Utilisation over the 3 inventory ports: 120 min charging / (3 x 1440) = 2.78 %
    assert fleet["charging_pct"] == pytest.approx(100 * 120 / (3 * 1440))
    assert fleet["ports"] == 3


def test_plug_ins_that_fault_before_authorisation_are_failed_attempts(tmp_path: Path) -> None:
    log = day_log()
    # visit 1, retried: plugs in, faults, plugs in again, authorises, charges
    log.status(480, 1, "Preparing")
    log.status(481, 1, "Faulted", "GroundFailure")
    log.status(483, 1, "Available")
    log.status(484, 1, "Preparing")
    log.authorize(485)
    log.start(485, 1, 1, 0)
    log.status(486, 1, "Charging")
    log.stop(540, 1, 10000)
    log.status(540, 1, "Finishing")
    log.status(541, 1, "Available")
    # visit 2, first try
    log.status(840, 1, "Preparing")
    log.authorize(840.5, "TAG2")
    log.start(841, 1, 2, 10000, "TAG2")
    log.status(841, 1, "Charging")
    log.stop(900, 2, 20000)
    log.status(900, 1, "Finishing")
    log.status(901, 1, "Available")
    # visit 3, failed: plugs in, faults, gives up
    log.status(1080, 1, "Preparing")
    log.status(1081, 1, "Faulted", "GroundFailure")
    log.status(1090, 1, "Available")
    data = dataset([log], tmp_path)
    table = attempts(data.frames, data.sessions, data.status_events)
    assert list(table.via) == ["plug-in"] * 4
    assert list(table.charged) == [False, True, True, False]
    assert list(table.visit) == [1, 1, 2, 3]
    kpis = chargex_kpis(data.frames, data.sessions, data.status_events)
    # 4 plug-ins, 2 reached charging: 50 %
    assert kpis["start_attempts"] == 4 and kpis["charge_start_success_pct"] == 50.0
    assert (kpis["visits"], kpis["visits_first_try"], kpis["visits_retried"],
            kpis["visits_failed"]) == (3, 1, 1, 1)  # fmt: skip
    # charging began 2 min (484 -> 486) and 1 min (840 -> 841) after the plug-in
    assert kpis["charge_start_time_median_s"] == 90.0


def test_an_authorisation_without_a_plug_in_report_is_an_attempt(tmp_path: Path) -> None:
    log = day_log()
    log.authorize(60)  # accepted, never followed by charging
    log.authorize(300, "TAG9", status="Invalid")  # rejected: not an attempt
    data = dataset([log], tmp_path)
    kpis = chargex_kpis(data.frames, data.sessions, data.status_events)
    assert kpis["start_attempts"] == 1 and kpis["charge_start_success_pct"] == 0.0
    assert kpis["visits_failed"] == 1


def test_inferred_ports_come_from_configuration_answers_and_boots(tmp_path: Path) -> None:
    log = day_log()
    log.call(1, "GetConfiguration", {"key": ["NumberOfConnectors"]},
             {"configurationKey": [{"key": "NumberOfConnectors", "readonly": True,
                                    "value": "3"}]}, by_csms=True)  # fmt: skip
    quiet = Log("CP2")
    quiet.boot(0)
    quiet.heartbeats(5, END)
    data = dataset([log, quiet], tmp_path)
    scope = build_scope(data)
    assert scope.inventory.inferred
    ports = list(zip(scope.ports.charge_point_id, scope.ports.evse_id, strict=True))
    assert ports == [("CP1", 1), ("CP1", 2), ("CP1", 3), ("CP2", 1)]
    nevi = nevi_uptime(port_intervals(data, scope))
    # connectors 2 and 3 never reported a status: unknown all day, an outage under NEVI
    assert list(nevi.unknown_min) == [0, 1440, 1440, 1440]


def test_a_transaction_start_stands_in_for_charging_where_the_port_never_reports_it(
    tmp_path: Path,
) -> None:
    log = day_log()
    log.status(60, 1, "Preparing")
    log.authorize(61)
    log.start(63, 1, 5, 0)  # no Charging status follows: this charger does not send it
    log.stop(120, 5, 9000)
    log.status(120, 1, "Available")
    data = dataset([log], tmp_path)
    (row,) = attempts(data.frames, data.sessions, data.status_events).itertuples(index=False)
    assert row.charged and (row.charging_at - row.start) == pd.Timedelta(minutes=3)


def test_a_port_counts_only_between_its_commissioning_dates(tmp_path: Path) -> None:
    log = day_log()
    log.status(0, 2, "Available")
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        "charge_point_id,evse_id,connector_id,commissioned,decommissioned\n"
        "CP1,1,1,,2026-03-01T18:00:00Z\nCP1,2,2,2026-03-01T12:00:00Z,\n",
        encoding="utf-8",
    )
    data = dataset([log], tmp_path)
    result = uptime(data, inventory=load_inventory(inventory))
    # port 1: 00:00-18:00 = 1080 min; port 2: 12:00-24:00 = 720 min
    assert list(result.total_min) == [1080, 720] and list(result.uptime_pct) == [100.0, 100.0]
