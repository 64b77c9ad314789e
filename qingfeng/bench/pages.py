"""Page-render benchmark on a large register: ``qingfeng bench-pages [--clues 100000] [--home DIR]``.

Seeds users with the sample register's seed, then bulk-inserts N synthetic clues (with subjects, evidence,
dispatches, events and rectifications) and times full HTTP renders of the queue, detail, subject,
dashboard and report pages through the real app (TestClient, no network). Prints median wall and
CPU time (CPU time stays meaningful on a shared, overloaded machine) and the worst wall time, in ms.
A measurement, not a test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import re
import statistics
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from qingfeng.contract import CATALOGUE
from qingfeng.register.lifecycle import STATUSES
from qingfeng.register.models import Clue, ClueSubject, Dispatch, Event, Evidence, Rectification, Unit, utcnow

# the rules the seeded clues come from (a fixed subset keeps the seeded register as it was)
RULES = {
    code: CATALOGUE[code].name
    for code in [
        "S01",
        "S02",
        "S03",
        "S04",
        "S05",
        "S06",
        "S07",
        "E01",
        "E02",
        "E03",
        "E04",
        "A01",
        "A03",
        "A05",
        "P01",
        "P02",
        "P04",
    ]
}
TOWNS = [
    f"{n}镇"
    for n in ("城关", "临江", "青山", "白沙", "红岩", "石桥", "东湖", "西岭", "南塘", "北固", "新港", "龙泉")
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "建国秀兰伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英"


def _person(rng: random.Random) -> tuple[str, str]:
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 60 * 365))
    ident = f"330109{birth:%Y%m%d}{rng.randrange(1000):03d}{rng.choice('0123456789X')}"
    return ident, rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def bulk_seed(engine: Any, n: int, *, seed: int = 7, batch: int = 5000) -> dict[str, int]:
    """Insert ``n`` clues directly (core bulk inserts: the benchmark measures reads, not publish)."""
    rng = random.Random(seed)
    today = dt.date.today()
    now = utcnow()
    counts = {"clues": 0, "dispatches": 0, "rectifications": 0, "events": 0}
    with engine.begin() as conn:
        unit_ids = [r[0] for r in conn.execute(Unit.__table__.select().with_only_columns(Unit.id))]
        next_id = 1 + (
            conn.execute(
                Clue.__table__.select().with_only_columns(Clue.id).order_by(Clue.id.desc()).limit(1)
            ).scalar()
            or 0
        )
        for start in range(0, n, batch):
            clues, subjects, evidence, dispatches, rects, events = [], [], [], [], [], []
            for cid in range(next_id + start, next_id + min(start + batch, n)):
                rule = rng.choice(list(RULES))
                town = rng.choice(TOWNS)
                village = f"{town[:2]}{rng.randrange(1, 16)}村"
                pid, name = _person(rng)
                first = today - dt.timedelta(days=rng.randrange(0, 540))
                status = rng.choices(STATUSES, weights=(40, 20, 12, 8, 10, 6, 4))[0]
                keys = {
                    "person": pid,
                    "programme": "最低生活保障金",
                    "month": f"{first:%Y-%m}",
                    "n": str(cid),
                }
                clues.append(
                    {
                        "id": cid,
                        "rule": rule,
                        "rule_name": RULES[rule],
                        "domain": CATALOGUE[rule].domain,
                        "keys": keys,
                        "fingerprint": hashlib.sha256(f"{rule}|{cid}".encode()).hexdigest(),
                        "subjects": [
                            {"kind": "person", "id": pid, "name": name},
                            {"kind": "village", "id": village, "name": village},
                        ],
                        "amount": Decimal(rng.randrange(100, 2_000_000)) / 10,
                        "period_start": first,
                        "period_end": first + dt.timedelta(days=rng.randrange(0, 365)),
                        "severity": rng.choices(("high", "medium", "low"), weights=(2, 5, 3))[0],
                        "evidence": [
                            {
                                "feed": "subsidy",
                                "table": "subsidy_payment",
                                "file": "民政救助发放.xlsx",
                                "line": rng.randrange(2, 90000),
                                "note": f"{name} 发放记录",
                            }
                        ],
                        "path": f"{name}(村干部) —配偶— 某某 —兄弟姐妹— 某某"
                        if rule in ("S03", "E04", "A05")
                        else None,
                        "town": town,
                        "village": village,
                        "risk_score": round(rng.random(), 3),
                        "first_seen": first,
                        "last_seen": today,
                        "as_of": today,
                        "status": status,
                        "detection_state": "active",
                        "updated_at": now,
                        "version": 1,
                    }
                )
                subjects += [
                    {"clue_id": cid, "kind": "person", "subject_id": pid, "name": name},
                    {"clue_id": cid, "kind": "village", "subject_id": village, "name": village},
                ]
                evidence.append(
                    {
                        "clue_id": cid,
                        "feed": "subsidy",
                        "table_name": "subsidy_payment",
                        "file": "民政救助发放.xlsx",
                        "line": rng.randrange(2, 90000),
                        "note": f"{name} 发放记录",
                    }
                )
                events.append(
                    {"clue_id": cid, "kind": "publish", "actor": "system:publish", "text": "入库", "at": now}
                )
                if status in ("处置", "整改", "销号") and unit_ids:
                    sent = dt.datetime.combine(first, dt.time(9)) + dt.timedelta(days=rng.randrange(1, 30))
                    dispatches.append(
                        {
                            "clue_id": cid,
                            "unit_id": rng.choice(unit_ids),
                            "sent_by": "analyst1",
                            "deadline": sent.date() + dt.timedelta(days=rng.randrange(5, 60)),
                            "state": "sent" if status == "处置" else "answered",
                            "sent_at": sent,
                            "answered_at": None if status == "处置" else sent + dt.timedelta(days=20),
                        }
                    )
                    events.append(
                        {"clue_id": cid, "kind": "dispatch", "actor": "analyst1", "text": "派件", "at": sent}
                    )
                if status in ("整改", "销号"):
                    rects.append(
                        {
                            "clue_id": cid,
                            "measures": "责令整改",
                            "recorded_by": "liaison1",
                            "recovered_amount": Decimal(rng.randrange(0, 50000)),
                            "sanction_count": rng.randrange(0, 2),
                            "org_handling_count": rng.randrange(0, 2),
                            "recorded_at": dt.datetime.combine(first, dt.time(10)) + dt.timedelta(days=40),
                        }
                    )
            conn.execute(insert(Clue), clues)
            for model, rows in (
                (ClueSubject, subjects),
                (Evidence, evidence),
                (Dispatch, dispatches),
                (Rectification, rects),
                (Event, events),
            ):
                if rows:
                    conn.execute(insert(model), rows)
            counts["clues"] += len(clues)
            counts["dispatches"] += len(dispatches)
            counts["rectifications"] += len(rects)
            counts["events"] += len(events)
    return counts


def _time(client: Any, path: str, runs: int) -> tuple[float, float, float, int]:
    """Median wall time, median CPU time of this process (SQLite runs in-process: a load-independent
    measure on a busy machine), worst wall time, status."""
    wall, cpu = [], []
    status = 0
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get(path)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        status = response.status_code
    return statistics.median(wall), statistics.median(cpu), max(wall), status


def run_page_bench(home: Path, n: int, runs: int = 5) -> list[tuple[str, str, float, float, float, int]]:
    from fastapi.testclient import TestClient

    from qingfeng.register.db import make_engine, session_factory, upgrade
    from qingfeng.register.risk import refresh_subject_risk
    from qingfeng.synth.sample_register import PASSWORD, seed
    from qingfeng.web import create_app
    from qingfeng.web.opaque import SEARCH, Sealer
    from qingfeng.web.settings import web_settings

    cfg = web_settings(home=home)
    if (home / "register.db").exists():
        print(f"re-using the register in {home} (delete it to re-seed)", flush=True)
        upgrade(cfg.resolved_register_url)  # an older benchmark register gets the new indexes and tables
    else:
        t0 = time.perf_counter()
        engine = seed(cfg.resolved_register_url)
        counts = bulk_seed(engine, n)
        engine.dispose()
        print(
            f"seeded {counts} in {time.perf_counter() - t0:.1f}s at {cfg.resolved_register_url}", flush=True
        )
    engine = make_engine(cfg.resolved_register_url)
    with session_factory(engine)() as session:  # what every publish does after its upsert
        t0, c0 = time.perf_counter(), time.process_time()
        risk = refresh_subject_risk(session, dt.date.today())
        session.commit()
        print(
            f"subject risk refresh: {risk} in {(time.perf_counter() - t0) * 1000:.0f} ms wall, "
            f"{(time.process_time() - c0) * 1000:.0f} ms CPU",
            flush=True,
        )
    engine.dispose()
    app = create_app(cfg)
    results = []

    def client_for(username: str) -> TestClient:
        client = TestClient(app)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        return client

    analyst, liaison = client_for("analyst1"), client_for("liaison1")
    with app.state.sessions() as session:
        from sqlalchemy import select

        some = session.execute(
            select(ClueSubject.clue_id, ClueSubject.subject_id, ClueSubject.name)
            .where(ClueSubject.kind == "person")
            .offset(n // 2)
            .limit(1)
        ).one()
    month = dt.date.today().strftime("%Y-%m")
    sealed = Sealer(cfg.secret())  # search terms and subject ids travel sealed (the pages' own links)
    village = f"{TOWNS[3][:2]}3村"
    pages = [
        ("queue (default: severity)", "/clues"),
        ("queue page 500", "/clues?page=500"),
        ("queue sort=amount", "/clues?sort=amount"),
        ("queue sort=risk", "/clues?sort=risk"),
        ("queue filter town+status", f"/clues?town={TOWNS[3]}&status=发现"),
        ("queue filter colour=red", "/clues?colour=red"),
        ("queue search exact ID", f"/clues?qt={sealed.seal(SEARCH, some.subject_id)}"),
        ("queue search name", f"/clues?qt={sealed.seal(SEARCH, some.name)}"),
        ("clue detail", f"/clues/{some.clue_id}"),
        ("subject (person)", f"/subjects/person/{sealed.subject('person', some.subject_id)}"),
        ("subject (village, ~550 clues)", f"/subjects/village/{sealed.subject('village', village)}"),
        ("dashboard", f"/dashboard?month={month}"),
        ("monthly report", f"/reports/monthly?month={month}"),
        ("monthly report .xlsx", f"/reports/monthly.xlsx?month={month}"),
    ]
    pages.append(("queue as liaison", "/clues"))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    print(f"| {'page':34} | {'wall ms':>8} | {'CPU ms':>8} | {'max ms':>8} | status |", flush=True)
    print(f"| {'-' * 34} | {'-' * 7}: | {'-' * 7}: | {'-' * 7}: | ------ |", flush=True)
    for label, path in pages:
        client = liaison if "liaison" in label else analyst
        results.append((label, path, *_time(client, path, runs)))
        _, _, wall, cpu, worst, status = results[-1]
        flag = "" if min(wall, cpu) < 300 else " (> 300 ms)"
        print(f"| {label:34} | {wall:8.1f} | {cpu:8.1f} | {worst:8.1f} | {status}{flag} |", flush=True)
    app.state.engine.dispose()
    return results


if __name__ == "__main__":  # python -m qingfeng.bench.pages, like `qingfeng bench-pages`
    from qingfeng.bench.cli import bench_pages

    bench_pages()
