"""`ingest --append`: a log ingested in pieces, day by day, is the log ingested at once."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from ocppkit.toolkit.ingest import IngestOptions, ingest, model
from ocppkit.toolkit.ingest.state import OPEN_PART, OPEN_TABLES
from ocppkit.translators.errors import ConfigError

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
ONE = IngestOptions(workers=1)
APPEND = IngestOptions(workers=1, append=True)


def log_lines(log: Path) -> list[bytes]:
    with gzip.open(log) as f:
        return f.read().splitlines(keepends=True)


def split(log: Path, folder: Path, width: int) -> list[Path]:
    """The log cut where the first ``width`` characters of its timestamp change
    (10: by UTC day, 13: by hour), in order, as plain files."""
    pieces: list[tuple[str, list[bytes]]] = []
    for line in log_lines(log):
        key = line[15 : 15 + width].decode()  # after '{"timestamp":"'
        if not pieces or pieces[-1][0] != key:
            pieces.append((key, []))
        pieces[-1][1].append(line)
    paths = []
    for n, (_, lines) in enumerate(pieces):
        path = folder / f"{log.name.split('.jsonl')[0]}-{n:03d}.jsonl"
        path.write_bytes(b"".join(lines))
        paths.append(path)
    return paths


def table(root: Path, name: str) -> pd.DataFrame:
    df = ds.dataset(root / name, format="parquet", partitioning="hive").to_table().to_pandas()
    df = df.drop(columns=[c for c in df.columns if c == model.PARTITION_COLUMN])
    for column in df.select_dtypes("category").columns:
        df[column] = df[column].astype(object)
    df = df.sort_values(list(df.columns), na_position="first", kind="mergesort")
    return df.reset_index(drop=True)


def keys(sessions: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(sessions["charge_point_id"], sessions["transaction_id"], strict=True))


def assert_same_dataset(a: Path, b: Path) -> None:
    for name in model.TABLES:
        pd.testing.assert_frame_equal(table(a, name), table(b, name), obj=name)


@pytest.mark.parametrize("log", ["site-1.6.jsonl.gz", "site-2.0.1.jsonl.gz", "site-1.5.jsonl.gz"])
@pytest.mark.parametrize("width", [10, 13], ids=["daily", "hourly"])
def test_a_log_appended_piece_by_piece_equals_the_single_shot_ingest(
    log: str, width: int, tmp_path: Path
) -> None:
    pieces = split(DATASETS / log, tmp_path, width)
    assert len(pieces) >= 3
    ingest(pieces, tmp_path / "once", ONE)
    for piece in pieces:
        ingest([piece], tmp_path / "daily", APPEND)
    assert_same_dataset(tmp_path / "once", tmp_path / "daily")


@pytest.mark.parametrize("log", ["site-1.6.jsonl.gz", "site-2.0.1.jsonl.gz"])
def test_sessions_open_at_a_boundary_are_completed_once(log: str, tmp_path: Path) -> None:
    pieces = split(DATASETS / log, tmp_path, 13)
    spanning: set[tuple[str, str]] = set()
    for piece in pieces[:-1]:
        ingest([piece], tmp_path / "ds", APPEND)
        sessions = table(tmp_path / "ds", "sessions")
        is_open = sessions["flags"].fillna("").str.contains("open_at_end")
        spanning |= set(keys(sessions[is_open]))
    ingest(pieces[-1:], tmp_path / "ds", APPEND)
    sessions = table(tmp_path / "ds", "sessions")
    still_open = sessions["flags"].fillna("").str.contains("open_at_end")
    completed = spanning - set(keys(sessions[still_open]))
    assert len(completed) >= 3, "the hours should cut through sessions"
    all_keys = keys(sessions)
    for key in completed:
        rows = sessions[[k == key for k in all_keys]]
        assert len(rows) == 1, key
        assert rows["stop_time"].notna().all() and rows["energy_wh"].notna().all(), key
        assert rows["start_time"].notna().all(), key
        assert not rows["flags"].fillna("").str.contains("no_start_event").any(), key
    assert not sessions.duplicated(["charge_point_id", "transaction_id"]).any()


def test_appending_a_file_already_in_the_dataset_is_a_no_op(tmp_path: Path) -> None:
    pieces = split(DATASETS / "site-2.0.1.jsonl.gz", tmp_path, 10)
    ingest(pieces[:2], tmp_path / "ds", APPEND)
    before = {name: table(tmp_path / "ds", name) for name in model.TABLES}
    files = sorted(p.relative_to(tmp_path / "ds") for p in (tmp_path / "ds").rglob("*"))
    renamed = tmp_path / "copy-of-day-2.jsonl"
    renamed.write_bytes(pieces[1].read_bytes())
    summary = ingest([pieces[1], renamed], tmp_path / "ds", APPEND)
    assert summary.already_ingested == {str(pieces[1]): str(pieces[1]),
                                        str(renamed): str(pieces[1])}  # fmt: skip
    assert summary.files == {}
    assert sorted(p.relative_to(tmp_path / "ds") for p in (tmp_path / "ds").rglob("*")) == files
    for name in model.TABLES:
        pd.testing.assert_frame_equal(before[name], table(tmp_path / "ds", name), obj=name)
    assert any("already in the dataset" in line for line in summary.lines())


def fingerprints(root: Path) -> dict[Path, tuple[int, int, int]]:
    """Every Parquet file of the dataset: (inode, mtime in ns, size)."""
    return {
        p: (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_size)
        for p in root.rglob("*.parquet")
    }


def rows_of(paths: set[Path]) -> pd.DataFrame:
    frames = [pq.read_table(p).to_pandas() for p in sorted(paths)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def keyed(table: pd.DataFrame | None, key: list[str]) -> set[tuple[str, ...]]:
    if table is None or table.empty:
        return set()
    return set(map(tuple, table[key].astype(str).to_numpy()))


SLACK = pd.Timedelta(minutes=1)  # a charger's payload time a little before its log line's


@pytest.mark.parametrize(("cut", "reopened"), [
    ("hourly", {"sessions", "faults"}), ("after-start-calls", {"sessions", "frames"})])  # fmt: skip
def test_an_append_adds_files_and_changes_none_an_earlier_run_wrote(
    cut: str, reopened: set[str], tmp_path: Path
) -> None:
    """Checked at every boundary of the 1.6 sample cut by hour, or right after
    StartTransaction CALLs: an append leaves every earlier file as it was (same inode,
    mtime and size) but the open ones, which it deletes; the files it adds hold the new
    log's rows and the rows of what was open, nothing else."""
    root = tmp_path / "ds"
    log = DATASETS / "site-1.6.jsonl.gz"
    pieces = (split(log, tmp_path, 13) if cut == "hourly"
              else cut_after_calls(log, tmp_path, "StartTransaction", 6))  # fmt: skip
    ingest(pieces[:1], root, APPEND)
    replaced: Counter[str] = Counter()
    for piece in pieces[1:]:
        before = fingerprints(root)
        opened = {p for p in before if p.name.startswith(f"part-{OPEN_PART}-")}
        old_open = {t: rows_of({p for p in opened if t in p.parts}) for t in OPEN_TABLES}
        ingest([piece], root, APPEND)
        after = fingerprints(root)
        for path, mark in before.items():
            if path in opened:
                assert path not in after, path
                replaced[path.parts[len(root.parts)]] += 1
            else:
                assert after.get(path) == mark, path
        added = set(after) - set(before)
        start = pd.Timestamp(piece.read_text().split('"', 4)[3])
        for name in model.TABLES:
            new = rows_of({p for p in added if p.parts[len(root.parts)] == name})
            if new.empty:
                continue
            if "source_file" in new.columns:
                where = keyed(new, ["source_file", "line"])
                known = keyed(old_open.get(name), ["source_file", "line"])
                assert {w for w in where if w[0] != str(piece)} <= known, name
                continue
            key = ["charge_point_id", "transaction_id"] if name == "sessions" else [
                "charge_point_id", "evse_id", "connector_id", "start_time"]  # fmt: skip
            first = new["start_time"].fillna(new["stop_time"]) if name == "sessions" else (
                new["start_time"])  # fmt: skip
            earlier = new[first < start - SLACK]
            assert keyed(earlier, key) <= keyed(old_open[name], key), name
    # the cuts go through sessions, faults and calls awaiting their answer
    assert reopened <= set(replaced), replaced


def cut_after_calls(log: Path, folder: Path, action: str, count: int) -> list[Path]:
    """The log cut right after each of its first ``count`` CALLs of ``action`` (their
    results start the next piece)."""
    lines = log_lines(log)
    cuts = [
        i + 1
        for i, line in enumerate(lines)
        if b'"message":[2,' in line and f',"{action}",'.encode() in line
    ][:count]
    pieces = [lines[a:b] for a, b in zip([0, *cuts], [*cuts, len(lines)], strict=True)]
    paths = []
    for n, piece in enumerate(pieces):
        path = folder / f"cut-{n:03d}.jsonl"
        path.write_bytes(b"".join(piece))
        paths.append(path)
    return paths  # fmt: skip


@pytest.mark.parametrize(
    ("log", "action"),
    [("site-1.6.jsonl.gz", "StartTransaction"), ("site-1.6.jsonl.gz", "MeterValues"),
     ("site-2.0.1.jsonl.gz", "TransactionEvent")],
)  # fmt: skip
def test_a_call_answered_in_the_next_file_is_matched_and_not_left_unanswered(
    log: str, action: str, tmp_path: Path
) -> None:
    pieces = cut_after_calls(DATASETS / log, tmp_path, action, 4)
    ingest(pieces, tmp_path / "once", ONE)
    for piece in pieces:
        ingest([piece], tmp_path / "pieces", APPEND)
    assert_same_dataset(tmp_path / "once", tmp_path / "pieces")
    frames = table(tmp_path / "pieces", "frames")
    cut_calls = frames[frames["source_file"].isin([str(p) for p in pieces[:-1]])]
    last_call = cut_calls.sort_values("line").groupby("source_file").tail(1)
    assert len(last_call) == 4
    assert not last_call["flags"].fillna("").str.contains("unanswered_call").any()
    results = frames[frames["message_type"] != 2]
    for cp, mid, piece in zip(last_call["charge_point_id"], last_call["message_id"],
                              last_call["source_file"], strict=True):  # fmt: skip
        (answer,) = results[(results["charge_point_id"] == cp) & (results["message_id"] == mid)
                            & (results["source_file"] != piece)].itertuples()  # fmt: skip
        assert answer.matched_action == action and answer.latency_ms >= 0


def test_append_refuses_a_dataset_without_ingest_state_and_overwrite(tmp_path: Path) -> None:
    log = DATASETS / "sample-1.6-session.jsonl"
    ingest([log], tmp_path / "ds", ONE)
    (tmp_path / "ds" / "_state" / "open.json").unlink()
    with pytest.raises(ConfigError, match="no ingest state"):
        ingest([log], tmp_path / "ds", APPEND)
    with pytest.raises(ConfigError, match="cannot go together"):
        ingest([log], tmp_path / "ds", IngestOptions(append=True, overwrite=True))


def test_append_refuses_a_different_salt(tmp_path: Path) -> None:
    pieces = split(DATASETS / "site-2.0.1.jsonl.gz", tmp_path, 10)
    ingest(pieces[:1], tmp_path / "ds", IngestOptions(workers=1, salt=b"one"))
    with pytest.raises(ConfigError, match="same --hash-id-tokens"):
        ingest(pieces[1:2], tmp_path / "ds", IngestOptions(workers=1, salt=b"two", append=True))


def _line(ts: str, direction: str, message: list[Any]) -> bytes:
    record = {"timestamp": ts, "charge_point_id": "CP1", "direction": direction,
              "ocpp_version": "1.6", "message": message}  # fmt: skip
    return orjson.dumps(record) + b"\n"


def test_a_rotated_log_appended_under_one_name_is_the_same_as_under_distinct_names(
    tmp_path: Path,
) -> None:
    """A cron job that ingests `today.jsonl` each day: the calls left open at the
    end of one day and of the next stand at the same line of the same path, and
    each is settled by its own answer, as if the files had distinct names."""
    up, down = "cs_to_csms", "csms_to_cs"
    hb = {"currentTime": "2026-03-01T00:00:00Z"}
    days = [
        [_line("2026-03-01T23:59:00Z", up, [2, "a", "Heartbeat", {}]),
         _line("2026-03-01T23:59:01Z", down, [3, "a", hb]),
         _line("2026-03-01T23:59:58Z", up, [2, "x", "Heartbeat", {}])],
        [_line("2026-03-02T00:00:01Z", down, [3, "x", hb]),
         _line("2026-03-02T23:59:00Z", up, [2, "b", "Heartbeat", {}]),
         _line("2026-03-02T23:59:58Z", up, [2, "y", "Heartbeat", {}])],
        [_line("2026-03-03T00:00:01Z", down, [3, "y", hb]),
         _line("2026-03-03T00:00:02Z", down, [3, "b", hb])],
    ]  # fmt: skip
    (tmp_path / "named").mkdir()
    (tmp_path / "cron").mkdir()
    for n, lines in enumerate(days):
        named = tmp_path / "named" / f"day-{n}.jsonl"
        named.write_bytes(b"".join(lines))
        ingest([named], tmp_path / "by-name", APPEND)
        today = tmp_path / "cron" / "today.jsonl"
        today.write_bytes(b"".join(lines))
        ingest([today], tmp_path / "by-cron", APPEND)
        for name in model.TABLES:  # after every day, not only at the end
            a, b = table(tmp_path / "by-name", name), table(tmp_path / "by-cron", name)
            drop = [c for c in a.columns if c == "source_file"]
            a, b = a.drop(columns=drop), b.drop(columns=drop)
            pd.testing.assert_frame_equal(a, b, obj=f"{name} after day {n}")
    frames = table(tmp_path / "by-cron", "frames")
    calls = frames[frames["message_type"] == 2]
    assert len(calls) == 4
    assert not calls["flags"].fillna("").str.contains("unanswered_call").any()
    assert set(frames[frames["message_type"] == 3]["matched_action"]) == {"Heartbeat"}
