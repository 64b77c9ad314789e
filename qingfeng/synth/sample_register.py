"""A small, realistic register for tests and the page benchmark: users of every role, units,
clues published through the register's real ``publish()``, and the ``curated/relation`` rows
around its S03 clue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine

from qingfeng.register import db, users
from qingfeng.register.publish import RunInfo, publish

PASSWORD = "Sample#Lake2026"
UNITS = ("区纪委监委派驻第一纪检监察组", "区纪委监委派驻第二纪检监察组")
USERS = (
    ("admin1", "admin", None, "管理员甲"),
    ("super1", "supervisor", None, "赵主任"),
    ("analyst1", "analyst", None, "钱分析"),
    ("liaison1", "liaison", UNITS[0], "孙联络"),
    ("liaison2", "liaison", UNITS[1], "周联络"),
    ("auditor1", "auditor", None, "吴审计"),
)
KIN_RECIPIENT = "330109198503154321"
KIN_CADRE = "330109196802101238"


def sample_clues(as_of: dt.date) -> list[dict[str, Any]]:
    """Clues as the rules stage writes them (docs/architecture.md), including an S03 kinship clue."""
    pay = "民政救助发放_2025.xlsx"
    return [
        {
            "rule": "S03",
            "rule_name": "优亲厚友: 干部亲属享受救助",
            "keys": {"person": KIN_RECIPIENT, "cadre": KIN_CADRE, "programme": "最低生活保障金"},
            "subjects": [
                {"kind": "person", "id": KIN_RECIPIENT, "name": "李秀兰"},
                {"kind": "person", "id": KIN_CADRE, "name": "王建国"},
                {"kind": "village", "id": "红星村", "name": "红星村"},
            ],
            "amount": "7560.00",
            "period_start": "2025-01-05",
            "period_end": "2025-06-05",
            "evidence": [
                {
                    "feed": "subsidy",
                    "table": "subsidy_payment",
                    "file": pay,
                    "line": 118,
                    "note": "2025-01 低保金 1260 元",
                },
                {
                    "feed": "subsidy",
                    "table": "subsidy_payment",
                    "file": pay,
                    "line": 342,
                    "note": "2025-06 低保金 1260 元",
                },
                {
                    "feed": "cadre",
                    "table": "cadre",
                    "file": "村社干部花名册.csv",
                    "line": 17,
                    "note": "王建国 红星村党总支书记",
                },
                {
                    "feed": "registry",
                    "table": "registry_person",
                    "file": "户籍人口信息_20231231.csv",
                    "line": 2207,
                    "note": f"户主 王建国({KIN_CADRE}) 配偶 李秀英",
                },
            ],
            "path": "王建国(村书记) —配偶— 李秀英 —兄弟姐妹— 李秀兰",
            "severity": "high",
            "town": "城关镇",
            "village": "红星村",
            "as_of": as_of,
        },
        {
            "rule": "S01",
            "rule_name": "死亡人员仍在领取补助",
            "keys": {"person": "330109194001012345", "programme": "高龄津贴"},
            "subjects": [{"kind": "person", "id": "330109194001012345", "name": "陈老汉"}],
            "amount": "3000.00",
            "period_start": "2024-08-01",
            "period_end": "2025-01-01",
            "evidence": [
                {
                    "feed": "death",
                    "table": "death_record",
                    "file": "死亡人员信息.csv",
                    "line": 55,
                    "note": "死亡日期 2024-06-30",
                },
                {
                    "feed": "subsidy",
                    "table": "subsidy_payment",
                    "file": pay,
                    "line": 77,
                    "note": "2024-08 高龄津贴 500 元",
                },
            ],
            "path": None,
            "severity": "high",
            "town": "城关镇",
            "village": "红星村",
            "as_of": as_of,
        },
        {
            "rule": "E04",
            "rule_name": "干部及亲属关联企业承揽",
            "keys": {"project": "XM-2025-031", "company": "91330109MA2B3C4D5E"},
            "subjects": [
                {"kind": "project", "id": "XM-2025-031", "name": "青石村道路硬化工程"},
                {"kind": "company", "id": "91330109MA2B3C4D5E", "name": "杭州青石建设有限公司"},
            ],
            "amount": "486000.00",
            "period_start": "2025-03-01",
            "period_end": "2025-03-01",
            "evidence": [
                {
                    "feed": "project",
                    "table": "project",
                    "file": "村级工程项目.csv",
                    "line": 31,
                    "note": "中标单位 杭州青石建设有限公司",
                }
            ],
            "path": "张卫东(村主任) —股东— 杭州青石建设有限公司",
            "severity": "medium",
            "town": "临江街道",
            "village": "青石村",
            "as_of": as_of,
        },
        {
            "rule": "A03",
            "rule_name": "超期限发包",
            "keys": {"contract": "ZL-2019-008"},
            "subjects": [{"kind": "contract", "id": "ZL-2019-008", "name": "鱼塘承包合同"}],
            "amount": "120000.00",
            "period_start": "2019-01-01",
            "period_end": "2049-12-31",
            "evidence": [
                {
                    "feed": "lease",
                    "table": "lease_contract",
                    "file": "集体资产合同.csv",
                    "line": 9,
                    "note": "期限 30 年",
                }
            ],
            "path": None,
            "severity": "low",
            "town": "临江街道",
            "village": "青石村",
            "as_of": as_of,
        },
    ]


def seed(url: str, *, as_of: dt.date | None = None, clues: list[dict[str, Any]] | None = None) -> Engine:
    """Migrate an empty register at ``url``, add units and users (password ``PASSWORD``), publish clues."""
    as_of = as_of or dt.date.today()
    db.upgrade(url)
    engine = db.make_engine(url)
    with db.session_factory(engine)() as session:
        for name in UNITS:
            users.get_or_create_unit(session, name)
        for username, role, unit, display in USERS:
            users.create_user(session, username, role, password=PASSWORD, unit=unit, display_name=display)
        session.commit()
    publish(engine, clues if clues is not None else sample_clues(as_of), RunInfo(as_of=as_of))
    return engine


SPOUSE_ID = "330109197001021226"
REG_FILE = "户籍人口信息_20231231.csv"


def sample_relations() -> list[dict[str, Any]]:
    """``curated/relation`` rows around the S03 clue: the cadre's spouse, her sister (the recipient), and
    a few neighbours so the subgraph shows more than the path."""

    def rel(
        source: str,
        target: str,
        relationship: str,
        schema: str,
        names: tuple[str, str],
        feed: str,
        file: str,
        line: int,
    ) -> dict[str, Any]:
        return {
            "source": source,
            "target": target,
            "relationship": relationship,
            "schema": schema,
            "source_name": names[0],
            "target_name": names[1],
            "feed": feed,
            "file": file,
            "line": line,
        }

    return [
        rel(KIN_CADRE, SPOUSE_ID, "spouse", "Family", ("王建国", "李秀英"), "registry", REG_FILE, 2207),
        rel(SPOUSE_ID, KIN_RECIPIENT, "sibling", "Family", ("李秀英", "李秀兰"), "registry", REG_FILE, 3015),
        rel(
            "330109194503031214",
            SPOUSE_ID,
            "parent",
            "Family",
            ("李老汉", "李秀英"),
            "registry",
            REG_FILE,
            3012,
        ),
        rel(
            KIN_CADRE,
            "330109199205051219",
            "parent",
            "Family",
            ("王建国", "王小军"),
            "registry",
            REG_FILE,
            2209,
        ),
        rel(
            "330109199205051219",
            "91330109MA2B3C4D5E",
            "shareholder",
            "Ownership",
            ("王小军", "杭州青石建设有限公司"),
            "company",
            "企业股东信息.csv",
            41,
        ),
    ]


def write_relations(settings: Any, rows: list[dict[str, Any]] | None = None) -> None:
    """Write ``curated/relation`` (one Parquet file) under the settings' lake, as the graph stage would."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from qingfeng.lake import table_path

    folder = table_path(settings, "curated", "relation")
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist(rows if rows is not None else sample_relations()), folder / "part-0.parquet"
    )
