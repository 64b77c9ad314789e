"""The DuckDB floor: S01, S03 (with its own 2-step kinship reach) and E01 as plain SQL over the
same lake tables the Spark rules read. The harness times it beside Spark and checks that both
find the same keys, so the comparison is like for like."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb

from qingfeng.contract import RulesConfig


def _scan(curated: Path, table: str) -> str:
    return f"read_parquet('{curated / table}/**/*.parquet', hive_partitioning = false, union_by_name = true)"


def _quote_list(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def s01_sql(curated: Path, config: RulesConfig) -> str:
    grace = int(config.section("S01").get("grace_days", 30))
    return f"""
    SELECT p.person_id AS person, p.programme
    FROM {_scan(curated, "subsidy_payment")} p
    JOIN {_scan(curated, "person")} d ON d.person_id = p.person_id
    WHERE d.death_date IS NOT NULL AND p.person_id IS NOT NULL
      AND date_diff('day', d.death_date, p.pay_date) > {grace}
    GROUP BY ALL
    """


def s03_sql(curated: Path, config: RulesConfig) -> str:
    steps = config.kinship_steps
    reach = ["k0 AS (SELECT DISTINCT person_id AS cadre_id, person_id AS kin_id FROM cadre)"]
    for i in range(1, steps + 1):
        reach.append(
            f"k{i} AS (SELECT DISTINCT k.cadre_id, e.b AS kin_id FROM k{i - 1} k JOIN edges e ON e.a = k.kin_id)"
        )
    union = " UNION ".join(f"SELECT * FROM k{i}" for i in range(steps + 1))
    return f"""
    WITH family AS (SELECT source, target FROM {_scan(curated, "relation")} WHERE schema = 'Family'),
    edges AS (SELECT source AS a, target AS b FROM family UNION SELECT target, source FROM family),
    cadre AS (SELECT person_id, town, start_date, end_date FROM {_scan(curated, "cadre")}
              WHERE person_id IS NOT NULL),
    {", ".join(reach)},
    kin AS ({union})
    SELECT p.person_id AS person, kin.cadre_id AS cadre, p.programme
    FROM {_scan(curated, "subsidy_payment")} p
    JOIN kin ON kin.kin_id = p.person_id
    JOIN cadre c ON c.person_id = kin.cadre_id AND c.town = p.town
         AND c.start_date <= p.pay_date AND (c.end_date IS NULL OR c.end_date >= p.pay_date)
    WHERE p.programme IN ({_quote_list(config.programmes.discretionary)})
    GROUP BY ALL
    """


def e01_sql(curated: Path, config: RulesConfig) -> str:
    limit = float(config.direct_award_limit)
    section = config.section("E01")
    window = int(section.get("window_days", 90))
    min_contracts = int(section.get("min_contracts", 2))
    return f"""
    WITH small AS (
        SELECT village, winner_credit_code AS company, sign_date, contract_amount
        FROM {_scan(curated, "project")}
        WHERE winner_credit_code IS NOT NULL AND sign_date IS NOT NULL AND contract_amount < {limit}
    ),
    windows AS (
        SELECT village, company,
               count(*) OVER w AS n, sum(contract_amount) OVER w AS total
        FROM small
        WINDOW w AS (PARTITION BY village, company ORDER BY sign_date
                     RANGE BETWEEN CURRENT ROW AND INTERVAL {window} DAYS FOLLOWING)
    )
    SELECT village, company FROM windows
    WHERE n >= {min_contracts} AND total >= {limit}
    GROUP BY ALL
    """


QUERIES = {"S01": s01_sql, "S03": s03_sql, "E01": e01_sql}


MEMORY_LIMIT = "6GB"


def run_baseline(curated: Path, config: RulesConfig, *, threads: int | None = None) -> dict[str, Any]:
    """Run the three rules; return seconds per rule and in all, and the key sets found."""
    con = duckdb.connect()
    # DuckDB takes 80% of RAM by default; at L that beside Spark's JVM got the bench OOM-killed.
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    out: dict[str, Any] = {"seconds": {}, "keys": {}}
    start_all = time.perf_counter()
    for code, build in QUERIES.items():
        start = time.perf_counter()
        rows = con.execute(build(curated, config)).fetchall()
        out["seconds"][code] = time.perf_counter() - start
        columns = [d[0] for d in con.description]
        out["keys"][code] = {tuple(sorted(zip(columns, map(str, row), strict=True))) for row in rows}
    out["total_seconds"] = time.perf_counter() - start_all
    con.close()
    return out
