"""What an ingest run carries past the end of its last log, kept in the dataset for `--append`.

A run ends with state that the next day's log may complete: transactions
started but not stopped, 1.6 starts waiting for their transactionId, the
charging state and open fault interval of every connector, CALLs no result
has answered yet. Single-shot ingest writes what is open as rows flagged
``open_at_end`` (sessions, faults, and the meterStart rows of starts with no
id yet) and the frames of the unanswered CALLs (flagged ``unanswered_call``);
those rows go to files named ``part-open-RUN-*`` so that an append can
replace them and carry the state on instead, completing the same sessions the
single-shot ingest of all the logs would have written. The append reads the
open frames back (a call answered now loses its flag), writes what it
completes as new files and deletes the open files it replaced only once its
own are written: no file an earlier run wrote is ever changed.

``_state/open.json`` holds that state, as plain JSON (never pickle: a
dataset may come from someone else). ``_state/files.json`` maps the SHA-256
of every log already read to its name, so an append skips a file it has
seen (renamed or not).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson

from ocppkit.toolkit.ingest.faults import FaultTracker
from ocppkit.toolkit.ingest.rows import StartRegister
from ocppkit.toolkit.ingest.sessions import Session, SessionAssembler
from ocppkit.translators.errors import ConfigError

STATE_DIR = "_state"
OPEN_FILE = "open.json"
FILES_FILE = "files.json"
OPEN_PART = "open"  # TableWriter part names of the rows of what was open at the end: open-RUN
OPEN_TABLES = ("sessions", "faults", "meter_values", "frames")
FORMAT = 1
_SESSION_FIELDS = Session.__slots__


def file_hash(path: Path) -> str:
    """SHA-256 of the file as stored (a gzipped log is hashed compressed)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def salt_check(salt: bytes | None) -> str | None:
    """A value that tells two salts apart without revealing either."""
    if salt is None:
        return None
    return hashlib.sha256(b"ocppkit dataset salt check\0" + salt).hexdigest()


def read_files(out: Path) -> dict[str, str]:
    path = out / STATE_DIR / FILES_FILE
    if not path.exists():
        return {}
    data: dict[str, str] = orjson.loads(path.read_bytes())
    return data


def write_files(out: Path, files: dict[str, str]) -> None:
    folder = out / STATE_DIR
    folder.mkdir(exist_ok=True)
    _replace(folder / FILES_FILE, orjson.dumps(files, option=orjson.OPT_INDENT_2))


def open_files(out: Path) -> list[Path]:
    """The files of rows the dataset's last run wrote for what was open at its end."""
    return [
        path
        for table in OPEN_TABLES
        for path in sorted((out / table).rglob(f"part-{OPEN_PART}-*.parquet"))
    ]


# -- the open state ------------------------------------------------------------


def snapshot(
    assembler: SessionAssembler,
    carried: dict[Any, Any],
    located: dict[Any, tuple[str, int, str]],
    salt: bytes | None,
) -> dict[str, Any]:
    """The JSON form of the open state (call before ``assembler.finish()``; it holds
    copies, so what finish() does to the sessions does not reach it)."""
    sessions: list[Session] = []
    index: dict[int, int] = {}

    def ref(s: Session) -> int:
        if id(s) not in index:
            index[id(s)] = len(sessions)
            sessions.append(s)
        return index[id(s)]

    open_ = [[cp, tx, ref(s)] for (cp, tx), s in assembler.open.items()]
    starting = [[cp, mid, ref(s)] for (cp, mid), s in assembler.starting.items()]
    on_connector = [[cp, evse, ref(s)] for (cp, evse), s in assembler.on_connector.items()]
    return {
        "format": FORMAT,
        "salt": salt_check(salt),
        "sessions": [_session_out(s) for s in sessions],
        "open": open_,
        "starting": starting,
        "on_connector": on_connector,
        "charging": [[cp, evse, on, ts] for (cp, evse), (on, ts) in assembler.charging.items()],
        "faults": [[list(k), list(v)] for k, v in assembler.faults.open.items()],
        "calls": [
            [list(k), list(call), list(located[k][:2]) if k in located else None]
            for k, call in carried.items()
        ],
    }


def restore(
    data: dict[str, Any], assembler: SessionAssembler, salt: bytes | None
) -> tuple[dict[Any, Any], dict[Any, tuple[str, int, str]]]:
    """Put ``data`` (from :func:`snapshot`) back into a fresh assembler; the carried
    calls and their (file, line, message id) are returned."""
    if data.get("format") != FORMAT:
        raise ConfigError("the dataset's ingest state is of an unknown format; re-ingest its logs")
    if data.get("salt") != salt_check(salt):
        raise ConfigError(
            "--append needs the same --hash-id-tokens/--salt as the dataset was made with"
        )
    sessions = [_session_in(d) for d in data["sessions"]]
    assembler.open = {(cp, tx): sessions[i] for cp, tx, i in data["open"]}
    assembler.starting = {(cp, mid): sessions[i] for cp, mid, i in data["starting"]}
    assembler.on_connector = {(cp, evse): sessions[i] for cp, evse, i in data["on_connector"]}
    assembler.charging = {(cp, evse): (on, ts) for cp, evse, on, ts in data["charging"]}
    faults = FaultTracker()
    faults.open = {tuple(k): v for k, v in data["faults"]}
    assembler.faults = faults
    carried: dict[Any, Any] = {}
    located: dict[Any, tuple[str, int, str]] = {}
    for key, call, where in data["calls"]:
        carried[tuple(key)] = tuple(call)
        if where is not None:
            located[tuple(key)] = (where[0], where[1], key[2])
    return carried, located


def read_open(out: Path) -> dict[str, Any] | None:
    path = out / STATE_DIR / OPEN_FILE
    if not path.exists():
        return None
    data: dict[str, Any] = orjson.loads(path.read_bytes())
    return data


def write_open(out: Path, data: dict[str, Any]) -> None:
    folder = out / STATE_DIR
    folder.mkdir(exist_ok=True)
    _replace(folder / OPEN_FILE, orjson.dumps(data))


def _session_out(s: Session) -> dict[str, Any]:
    out = {name: getattr(s, name) for name in _SESSION_FIELDS}
    out["flags"] = list(s.flags)  # copies: finish() goes on to change the session
    out["aliases"] = sorted(s.aliases)
    out["start_rows"] = [list(r) for r in s.start_rows]
    out["start_key"] = list(s.start_key) if s.start_key is not None else None
    return out


def _session_in(d: dict[str, Any]) -> Session:
    fields = dict(d)
    fields["aliases"] = set(d["aliases"])
    fields["start_rows"] = [StartRegister(*r) for r in d["start_rows"]]
    fields["start_key"] = tuple(d["start_key"]) if d["start_key"] is not None else None
    return Session(**fields)


def _replace(path: Path, data: bytes) -> None:
    partial = path.with_suffix(".partial")
    partial.write_bytes(data)
    partial.replace(path)
