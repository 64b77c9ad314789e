"""Held deliveries: the shrink guard's waiting room, and ``qingfeng deliveries list|accept|reject``.

A delivery that would supersede earlier ones with markedly fewer accepted rows (``max_shrink``) or
without a value of its ``coverage`` columns is *held* by the ingest (docs/feeds.md, section 6):
nothing of it enters the lake, and the file waits in ``<home>/held/<feed>/<sha256>/<name>`` beside
``held.json`` (what it was compared with and why it was held). Until an operator decides, every
ingest of a folder holding that file reports it ``held`` again without any Spark work:

- ``accept`` lands it now, through the same ingest engine with the guard off for its sha256, and
  removes the held record;
- ``reject`` moves it to ``<home>/held/rejected/<feed>/<sha256>/`` with the reason; an ingest then
  reports it ``rejected`` (skipped, not failed).

Both write an audit line to the register (as ``cli:<login>``) when the register is initialised.
Light at import (no pyspark): the engine imports the record functions, ``qingfeng --help`` the group.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from qingfeng.clikit import fail, with_settings
from qingfeng.pipeline import inbox
from qingfeng.pipeline.lock import lake_lock

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from qingfeng.ingest.report import IngestReport
    from qingfeng.settings import Settings

RECORD = "held.json"
REJECTED = "rejected"  # <home>/held/rejected/<feed>/<sha256>/ (beside the feeds' folders)


class DeliveryError(Exception):
    """A one-line problem with a held delivery (the commands print it, without a traceback)."""


# ---- the held area ---------------------------------------------------------------------------------


def held_root(settings: Settings) -> Path:
    return settings.home.resolve() / "held"


def held_dir(settings: Settings, feed: str, sha: str) -> Path:
    return held_root(settings) / feed / sha


def rejected_dir(settings: Settings, feed: str, sha: str) -> Path:
    return held_root(settings) / REJECTED / feed / sha


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write(path: Path, record: dict) -> None:
    staged = path.with_name(f".{path.name}.tmp")
    staged.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(staged, path)


def find_record(settings: Settings, feed: str, sha: str) -> dict | None:
    """The held record of a delivery, else its rejected record (with ``rejected``), else None."""
    if feed != REJECTED:
        record = _read(held_dir(settings, feed, sha) / RECORD)
        if record is not None:
            return record
    return _read(rejected_dir(settings, feed, sha) / RECORD)


def entry_for(record: dict | None, table: str) -> dict | None:
    """The part of a held record about one table (a file landing several tables may hold some)."""
    if not record:
        return None
    return next((e for e in record.get("tables", [record]) if e.get("table") == table), None)


def hold(settings: Settings, source: Path, entry: dict) -> Path:
    """Copy ``source`` to the held area and record ``entry`` (one table of it) in its ``held.json``."""
    folder = held_dir(settings, entry["feed"], entry["sha256"])
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    if not target.exists():
        staged = folder / f".{source.name}.tmp"
        shutil.copyfile(source, staged)
        os.replace(staged, target)
    record = _read(folder / RECORD) or {**entry, "tables": []}
    record["tables"] = [e for e in record.get("tables", []) if e.get("table") != entry["table"]] + [entry]
    _write(folder / RECORD, record)
    return target


def command_token(settings: Settings, feed: str, name: str, sha: str) -> str:
    """What to type after ``qingfeng deliveries accept``: the file name, or the sha256's first 12
    characters when another held delivery has the same name."""
    others = [r for r in list_held(settings) if r["file"] == name and r["sha256"] != sha]
    return sha[:12] if others else name


def list_held(settings: Settings, *, rejected: bool = False) -> list[dict]:
    """Every held (or rejected) delivery's record, oldest first."""
    root = held_root(settings)
    base = root / REJECTED if rejected else root
    records = []
    for path in sorted(base.glob(f"*/*/{RECORD}")):
        if not rejected and path.parent.parent.name == REJECTED:
            continue
        record = _read(path)
        if record is not None and bool(record.get("rejected")) == rejected:
            records.append(record)
    return sorted(records, key=lambda r: (r.get("held_at") or "", r.get("file") or ""))


def resolve(settings: Settings, token: str) -> dict:
    """The held delivery named by ``token``: its file name, or a prefix of its sha256."""
    token = token.strip()
    held = list_held(settings)
    if not token:
        raise DeliveryError("name a held delivery: its file name or the start of its sha256")
    matches = [r for r in held if r["file"] == token]
    if not matches and len(token) >= 4 and all(c in "0123456789abcdef" for c in token.lower()):
        matches = [r for r in held if r["sha256"].startswith(token.lower())]
    if len(matches) == 1:
        return matches[0]
    if matches:
        listed = "; ".join(
            f"{r['sha256'][:12]} {r['file']} (feed {r['feed']}, held {r['held_at']})" for r in matches
        )
        raise DeliveryError(
            f"{len(matches)} held deliveries match {token!r}: {listed}; give more of the sha256"
        )
    if not held:
        raise DeliveryError(f"no held delivery {token!r}: nothing is held under {held_root(settings)}")
    names = ", ".join(sorted({r["file"] for r in held}))
    raise DeliveryError(f"no held delivery {token!r}; held: {names} (`qingfeng deliveries list`)")


# ---- accept and reject -----------------------------------------------------------------------------


@dataclass
class Decision:
    record: dict
    report: IngestReport | None = None
    audit_note: str | None = None  # why no audit line was written, if none was


def accept(
    settings: Settings, token: str, *, spark: SparkSession | None = None, actor: str | None = None
) -> Decision:
    """Land a held delivery now: the same ingest, with the shrink guard off for its sha256."""
    from qingfeng.ingest import raw
    from qingfeng.ingest.engine import ingest_dir

    record = resolve(settings, token)
    feed, sha, name = record["feed"], record["sha256"], record["file"]
    folder = held_dir(settings, feed, sha)
    source = folder / name
    if not source.is_file():
        raise DeliveryError(
            f"{name}: the held copy {source} is missing; reject it and ask for the file again"
        )
    if raw.sha256_of(source) != sha:
        raise DeliveryError(
            f"{name}: the held copy {source} was changed since it was held; nothing was ingested"
        )
    staging = settings.home.resolve() / ".ingest-tmp" / f"accept-{uuid.uuid4().hex[:12]}"
    staging.mkdir(parents=True)
    try:
        shutil.copyfile(source, staging / name)
        if spark is None:
            from qingfeng.spark import get_spark

            spark = get_spark(settings)
        with _land_lock(settings):
            report = ingest_dir(settings, staging, spark=spark, feeds=[feed], accept={sha})
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    mine = [f for f in report.files if f.sha256 == sha and f.status != "superseded"]
    if not mine:
        raise DeliveryError(
            f"{name}: not recognised by feed {feed} any more (is its feed file broken, or its pattern changed? "
            "`qingfeng feeds check`); it stays held"
        )
    problems = [f for f in mine if f.status not in ("ingested", "duplicate")]
    if problems:
        detail = "; ".join(f.error or f"{f.file} ({f.table}): {f.status}" for f in problems)
        raise DeliveryError(f"{detail}; it stays held")
    shutil.rmtree(folder, ignore_errors=True)
    inbox.forget(settings, feed, sha)  # the next land run announces it: the cross-match follows
    landed = ", ".join(f"{f.table} {f.rows_accepted:,} rows" for f in mine)
    note = _audit(settings, actor, "accept", record, f"landed: {landed}")
    return Decision(record, report, note)


def reject(
    settings: Settings, token: str, *, reason: str | None = None, actor: str | None = None
) -> Decision:
    """Refuse a held delivery: it moves to ``held/rejected/`` and later ingests skip it."""
    record = resolve(settings, token)
    feed, sha = record["feed"], record["sha256"]
    folder, target = held_dir(settings, feed, sha), rejected_dir(settings, feed, sha)
    record["rejected"] = {"at": _now(), "by": actor or _operator(), "reason": reason}
    _write(folder / RECORD, record)
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(folder, target)
    note = _audit(settings, actor, "reject", record, reason or "no reason given")
    return Decision(record, None, note)


def _land_lock(settings: Settings) -> AbstractContextManager[object]:
    """The lake lock shared, as the ingest tasks take it: an accept does not land during a cross-match."""
    return lake_lock(settings, exclusive=False)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _operator() -> str:
    from qingfeng.register.cli import operator_name

    return operator_name()


def _audit(settings: Settings, actor: str | None, verb: str, record: dict, detail: str) -> str | None:
    """One audit line in the register (action ``change``, target ``delivery:<sha12>``) when it is
    initialised; else a note saying why there is none (the decision itself is in held.json)."""
    try:
        from sqlalchemy import inspect
        from sqlalchemy.engine import make_url

        from qingfeng.register.db import make_engine, session_factory
        from qingfeng.register.users import audit
    except ImportError:  # pragma: no cover - the register is part of the package
        return "no audit line: the register is not installed"
    url = settings.resolved_register_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        return f"no audit line: the register {url} is not initialised (`qingfeng db upgrade`)"
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table("access_log"):
            return f"no audit line: the register {url} is not initialised (`qingfeng db upgrade`)"
        text = (
            f"deliveries {verb} {record['file']} (feed {record['feed']}, table {record.get('table')}, "
            f"sha256 {record['sha256']}): held for {record.get('reason')}; {detail}"
        )
        with session_factory(engine)() as session:
            audit(
                session,
                actor or _operator(),
                "change",
                target=f"delivery:{record['sha256'][:12]}",
                detail=text,
            )
            session.commit()
    except Exception as exc:  # the lake is decided; a register problem must not hide that
        return f"no audit line: the register could not be written ({type(exc).__name__}: {exc})".splitlines()[
            0
        ]
    finally:
        engine.dispose()
    return None


# ---- the commands ----------------------------------------------------------------------------------


@click.group()
def deliveries() -> None:
    """Held deliveries: files the shrink guard stopped from replacing what is in the lake."""


@deliveries.command("list")
@click.option("--rejected", is_flag=True, help="List the rejected deliveries instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON.")
@with_settings
def deliveries_list(settings: Settings, rejected: bool, as_json: bool) -> None:
    """Every held delivery with its counts: accepted rows now, in what it would replace, lost values."""
    records = list_held(settings, rejected=rejected)
    if as_json:
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    if not records:
        click.echo(f"no {'rejected' if rejected else 'held'} deliveries under {held_root(settings)}")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{'rejected' if rejected else 'held'} deliveries under {held_root(settings)}")
    columns = ["file", "sha256", "feed", "table", "rows now", "rows before", "change", "lost", "held at"]
    if rejected:
        columns += ["rejected", "reason"]
    for name in columns:
        table.add_column(name, justify="right" if name in ("rows now", "rows before", "change") else "left")
    for r in records:
        for e in r.get("tables", [r]):
            lost = e.get("lost") or []
            row = [
                r["file"],
                r["sha256"][:12],
                r["feed"],
                e.get("table") or "",
                f"{e.get('new_rows', 0):,}",
                f"{e.get('old_rows', 0):,}",
                f"{e.get('change', 0):+.1%}",
                ", ".join(lost[:5]) + (f" (+{len(lost) - 5})" if len(lost) > 5 else ""),
                r.get("held_at") or "",
            ]
            if rejected:
                row += [r["rejected"].get("at") or "", r["rejected"].get("reason") or ""]
            table.add_row(*row)
    Console(width=200 if not os.isatty(1) else None).print(table)


@deliveries.command("accept")
@click.argument("file")
@with_settings
def deliveries_accept(settings: Settings, file: str) -> None:
    """Land the held delivery FILE (its name, or the start of its sha256) now, and drop its hold."""
    try:
        decision = accept(settings, file)
    except DeliveryError as exc:
        fail(str(exc))
        return
    record, report = decision.record, decision.report
    assert report is not None
    for f in report.files:
        if f.sha256 == record["sha256"] and f.status in ("ingested", "duplicate"):
            click.echo(f"{f.file}: {f.status} into {f.table}: {f.rows_accepted:,} rows accepted")
        elif f.status == "superseded":
            click.echo(f"{f.file}: superseded ({f.rows_accepted:,} rows, delivery {(f.sha256 or '')[:12]})")
    if decision.audit_note:
        click.echo(decision.audit_note, err=True)


@deliveries.command("reject")
@click.argument("file")
@click.option("--reason", default=None, help="Why (kept in the record and the audit line).")
@with_settings
def deliveries_reject(settings: Settings, file: str, reason: str | None) -> None:
    """Refuse the held delivery FILE (its name, or the start of its sha256): the lake stays as it is."""
    try:
        decision = reject(settings, file, reason=reason)
    except DeliveryError as exc:
        fail(str(exc))
        return
    record = decision.record
    target = rejected_dir(settings, record["feed"], record["sha256"])
    click.echo(f"{record['file']}: rejected; moved to {target}")
    if decision.audit_note:
        click.echo(decision.audit_note, err=True)


commands = [deliveries]
