"""Idempotent publishing of rule output into the register (one transaction per call)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from qingfeng.campaigns.linking import ProjectLinker
from qingfeng.contract import DOMAINS, RulesConfig, fingerprint
from qingfeng.register.bounds import parse_money
from qingfeng.register.errors import InvalidInput
from qingfeng.register.lifecycle import FOUND, TERMINAL
from qingfeng.register.models import Clue, ClueSubject, Event, Evidence, PipelineRun, utcnow
from qingfeng.register.risk import refresh_subject_risk
from qingfeng.register.risk_score import RiskWeights

if TYPE_CHECKING:
    from qingfeng.settings import Settings

SYSTEM_ACTOR = "system:publish"
OUTCOMES = ("new", "redetected", "reopened", "unchanged_dismissed", "not_detected")


@dataclass
class RunInfo:
    as_of: dt.date | str
    rules: list[str] | None = None  # rules that ran; default: the rules present in the clues
    input_files: list[Any] = field(default_factory=list)
    started_at: dt.datetime | str | None = None
    counts: dict[str, Any] = field(default_factory=dict)


@dataclass
class PublishSummary:
    run_id: int
    per_rule: dict[str, dict[str, int]]
    linked: dict[str, int] = field(default_factory=dict)  # new clues per campaign project code

    @property
    def totals(self) -> dict[str, int]:
        total = Counter({k: 0 for k in OUTCOMES})
        for counts in self.per_rule.values():
            total.update(counts)
        return dict(total)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "per_rule": self.per_rule,
            "totals": self.totals,
            "linked": self.linked,
        }


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _money(value: Any) -> Decimal | None:
    """The rules' amount: rounded to the fen; NaN, infinity and beyond ``Numeric(18, 2)`` refused."""
    if value is None:
        return None
    plain = value if isinstance(value, Decimal | float | int) else str(value)  # numpy, pyarrow scalars
    return parse_money(plain, label="涉及金额", exact=False, allow_negative=True)


def _evidence_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row.get("feed"),
        row.get("table"),
        row.get("file"),
        None if row.get("line") is None else int(row["line"]),
    )


def normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """A clue dict as the register stores it; fills the fingerprint when missing."""
    try:
        rule = str(raw["rule"])
        keys = {str(k): None if v is None else str(v) for k, v in dict(raw["keys"] or {}).items()}
    except (KeyError, TypeError) as exc:
        raise InvalidInput(f"线索缺少规则编号或关键字段: {exc}") from exc
    subjects = [
        {
            "kind": s.get("kind"),
            "id": None if s.get("id") is None else str(s.get("id")),
            "name": s.get("name"),
        }
        for s in (raw.get("subjects") or [])
    ]
    evidence = [
        {
            "feed": e.get("feed"),
            "table": e.get("table"),
            "file": e.get("file"),
            "line": None if e.get("line") is None else int(e["line"]),
            "note": e.get("note"),
        }
        for e in (raw.get("evidence") or [])
    ]
    village = raw.get("village") or keys.get("village")
    if not village:
        village = next((s["name"] or s["id"] for s in subjects if s["kind"] == "village"), None)
    return {
        "rule": rule,
        "rule_name": raw.get("rule_name"),
        "domain": DOMAINS.get(rule[:1]),
        "keys": keys,
        "fingerprint": raw.get("fingerprint") or fingerprint(rule, keys),
        "subjects": subjects,
        "amount": _money(raw.get("amount")),
        "period_start": _date(raw.get("period_start")),
        "period_end": _date(raw.get("period_end")),
        "severity": raw.get("severity") or "medium",
        "evidence": evidence,
        "path": raw.get("path"),
        "town": raw.get("town"),
        "village": village,
        "as_of": _date(raw.get("as_of")),
    }


def material_change(clue: Clue, new: dict[str, Any]) -> str | None:
    """Why a dismissed clue must come back, or None: a new amount, or source rows not seen before."""
    reasons = []
    old_amount = None if clue.amount is None else Decimal(clue.amount).quantize(Decimal("0.01"))
    if old_amount != new["amount"]:
        reasons.append(f"涉及金额由 {old_amount} 变为 {new['amount']}")
    seen = {_evidence_key(e) for e in clue.evidence or []}
    fresh = [e for e in new["evidence"] if _evidence_key(e) not in seen]
    if fresh:
        where = "; ".join(f"{e['file']} 第{e['line']}行" for e in fresh[:5])
        reasons.append(f"新增来源记录 {len(fresh)} 条 ({where}{' 等' if len(fresh) > 5 else ''})")
    return "，".join(reasons) or None


def _apply_facts(clue: Clue, c: dict[str, Any], as_of: dt.date) -> None:
    for name in (
        "rule_name",
        "domain",
        "keys",
        "subjects",
        "amount",
        "period_start",
        "period_end",
        "severity",
        "evidence",
        "path",
        "town",
        "village",
    ):
        setattr(clue, name, c[name])
    clue.subject_links = [
        ClueSubject(kind=s["kind"] or "", subject_id=s["id"] or "", name=s["name"])
        for s in c["subjects"]
        if s["id"]
    ]
    clue.evidence_rows = [
        Evidence(feed=e["feed"], table_name=e["table"], file=e["file"], line=e["line"], note=e["note"])
        for e in c["evidence"]
    ]
    clue.as_of = max(clue.as_of, as_of) if clue.as_of else as_of
    clue.last_seen = max(clue.last_seen, as_of) if clue.last_seen else as_of
    clue.detection_state = "active"
    clue.updated_at = utcnow()


def _naive_utc(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when


def _jsonable(value: Any) -> Any:
    """Paths, dates and decimals in run counts become strings (the pipeline passes what it has)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def rules_that_ran(run: RunInfo) -> list[str] | None:
    """``run.rules``, else the rules stage's ``per_rule`` summary in ``run.counts`` (as ``qingfeng run``
    records it: counts.stages.rules.summary.per_rule), else None (= the rules present in the clues)."""
    if run.rules is not None:
        return list(run.rules)
    try:
        per_rule = run.counts["stages"]["rules"]["summary"]["per_rule"]
    except (KeyError, TypeError):
        return None
    return list(per_rule) if isinstance(per_rule, dict) else None


def _publish(
    session: Session,
    clues: Iterable[dict[str, Any]],
    run: RunInfo,
    risk_weights: RiskWeights | None = None,
    projects: Mapping[str, str] | None = None,
) -> PublishSummary:
    started = _naive_utc(run.started_at) or utcnow()
    run_as_of = _date(run.as_of)
    if run_as_of is None:
        raise InvalidInput("发布必须给出数据截止日期（as_of）")
    batch: dict[str, dict[str, Any]] = {}
    for raw in clues:
        c = normalise(raw)
        batch[c["fingerprint"]] = c  # the same fingerprint twice in one run is one clue
    ran = rules_that_ran(run)
    rules_ran = set(ran) if ran is not None else {c["rule"] for c in batch.values()}
    per_rule: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rules_ran:
        per_rule[r].update({k: 0 for k in OUTCOMES})

    linker = ProjectLinker(session, projects or {})
    linked: Counter[str] = Counter()
    existing = {
        clue.fingerprint: clue
        for clue in session.scalars(
            select(Clue).where(Clue.rule.in_(rules_ran | {c["rule"] for c in batch.values()}))
        )
    }
    for fp, c in batch.items():
        as_of = c["as_of"] or run_as_of
        clue = existing.get(fp)
        if clue is None:
            clue = Clue(fingerprint=fp, rule=c["rule"], status=FOUND, first_seen=as_of)
            _apply_facts(clue, c, as_of)
            project = linker.project_for(c["rule"], as_of)
            if project is not None:
                clue.project_id = project.id
                linked[project.code] += 1
            session.add(clue)
            per_rule[c["rule"]]["new"] += 1
            continue
        if clue.status in TERMINAL:
            why = material_change(clue, c)
            if why is None:
                clue.last_seen = max(clue.last_seen, as_of)
                clue.detection_state = "active"
                per_rule[c["rule"]]["unchanged_dismissed"] += 1
                continue
            session.add(
                Event(
                    clue=clue,
                    kind="reopen",
                    from_status=clue.status,
                    to_status=FOUND,
                    actor=SYSTEM_ACTOR,
                    text=f"证据发生实质变化，线索重新开启：{why}",
                    at=started,
                )
            )
            clue.status = FOUND
            _apply_facts(clue, c, as_of)
            per_rule[c["rule"]]["reopened"] += 1
            continue
        if clue.detection_state == "not_detected":
            session.add(
                Event(
                    clue=clue,
                    kind="redetected",
                    actor=SYSTEM_ACTOR,
                    at=started,
                    text=f"截至 {as_of} 的数据再次发现该线索",
                )
            )
        _apply_facts(clue, c, as_of)
        per_rule[c["rule"]]["redetected"] += 1

    for fp, clue in existing.items():
        if fp in batch or clue.rule not in rules_ran or clue.detection_state == "not_detected":
            continue
        clue.detection_state = "not_detected"
        clue.updated_at = utcnow()
        session.add(
            Event(
                clue=clue,
                kind="not_detected",
                actor=SYSTEM_ACTOR,
                at=started,
                text=f"截至 {run_as_of} 的数据未再发现该线索（保留记录）",
            )
        )
        per_rule[clue.rule]["not_detected"] += 1

    summary = {r: dict(v) for r, v in sorted(per_rule.items())}
    session.flush()
    risk = refresh_subject_risk(session, run_as_of, weights=risk_weights)
    pr = PipelineRun(
        as_of=run_as_of,
        started_at=started,
        finished_at=utcnow(),
        input_files=_jsonable(list(run.input_files or [])),
        counts=_jsonable({**(run.counts or {}), "publish": summary, "risk": risk, "linked": dict(linked)}),
        status="published",
    )
    session.add(pr)
    session.flush()
    return PublishSummary(run_id=pr.id, per_rule=summary, linked=dict(sorted(linked.items())))


def publish(
    target: Session | Engine,
    clues: Iterable[dict[str, Any]],
    run: RunInfo,
    *,
    risk_weights: RiskWeights | None = None,
    projects: Mapping[str, str] | None = None,
) -> PublishSummary:
    """Upsert clues on their fingerprint in ONE transaction, then recompute the stored subject risk over
    all active clues (same transaction); see docs/register.md for the rules. ``projects`` (rule →
    campaign project code, config/campaigns.yml) links each NEW clue to its project (docs/campaigns.md);
    without it no clue is linked."""
    if isinstance(target, Engine):
        with Session(target, expire_on_commit=False) as session, session.begin():
            return _publish(session, clues, run, risk_weights, projects)
    try:
        summary = _publish(target, clues, run, risk_weights, projects)
        target.commit()
        return summary
    except BaseException:
        target.rollback()
        raise


def configured_weights(settings: Settings) -> RiskWeights:
    """The ``risk:`` section of the rules configuration, defaults without one (or without the file)."""
    path = getattr(settings, "rules_config", None)
    if path is None or not Path(path).exists():
        return RiskWeights()
    return RiskWeights.from_config(RulesConfig.load(Path(path)))


def configured_projects(settings: Settings) -> dict[str, str]:
    """rule → campaign project code from ``settings.campaigns_config`` (none without the file)."""
    from qingfeng.campaigns.config import campaigns_config
    from qingfeng.campaigns.linking import rule_projects

    return rule_projects(campaigns_config(Path(settings.campaigns_config)))


def read_lake_clues(settings: Settings) -> list[dict[str, Any]]:
    """The rules stage's ``lake/clues`` Parquet as plain dicts (pyarrow; clues are few)."""
    import pyarrow.dataset as ds

    from qingfeng.lake import exists, table_path

    if not exists(settings, "clues", ""):
        raise FileNotFoundError(f"没有可发布的线索：{settings.lake / 'clues'} 尚未由规则阶段写入")
    table = ds.dataset(
        str(table_path(settings, "clues", "")),
        format="parquet",
        partitioning="hive",
        exclude_invalid_files=True,
    ).to_table()
    rows = table.to_pylist()
    for row in rows:
        keys = row.get("keys")
        if isinstance(keys, list):  # a Parquet map arrives as a list of (key, value) pairs
            row["keys"] = dict(keys)
        json.dumps(row, default=str)
    return rows


def publish_from_lake(
    settings: Settings, *, spark: Any = None, run_info: RunInfo | dict[str, Any]
) -> dict[str, Any]:
    """Stage entry point: publish ``lake/clues`` into the register at ``settings.resolved_register_url``.

    ``spark`` is accepted for the common stage signature and not used.
    """
    from qingfeng.register.db import make_engine

    if isinstance(run_info, RunInfo):
        run = run_info
    else:
        known = {k: v for k, v in run_info.items() if k in RunInfo.__dataclass_fields__}
        run = RunInfo(**known)
    clues = read_lake_clues(settings)
    engine = make_engine(settings.resolved_register_url)
    try:
        summary = publish(
            engine,
            clues,
            run,
            risk_weights=configured_weights(settings),
            projects=configured_projects(settings),
        )
    finally:
        engine.dispose()
    return {"clues_read": len(clues), **summary.as_dict()}
