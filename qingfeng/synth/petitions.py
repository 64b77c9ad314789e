"""Petitions (信访举报登记_YYYYMM.csv): one GB18030 file a month with a title line above the header.

Written last, from a random stream of their own, so that every other export keeps its bytes and
the planted clues and traps stay as they are: no rule reads a petition. Each petition has a truth
line saying whom it names (docs/synth.md, "Petitions"):

- ``resolution`` (it must resolve to that person): the subject's ID as registered
  (``petition_id``), its 15-digit form (``petition_legacy15``) or one digit mistyped (``petition_typo``);
- ``resolution_trap`` with ``nobody``: a name without an ID (``petition_name_only``, with
  ``review``: the person must be among the candidates offered for review), a person the registry
  does not know (``petition_not_in_registry``), a village (``petition_village``), a company
  (``petition_company``).

``subject`` says who is named: ``planted_case`` (a planted clue's person or cadre), ``innocent`` (a
person no clue or trap names), ``cadre`` (a cadre without clue), ``not_in_registry``, ``village``,
``company``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from qingfeng.synth import names as N
from qingfeng.synth.district import District
from qingfeng.synth.divisions import spelled_division
from qingfeng.synth.ids import to_legacy15, typo
from qingfeng.synth.people import Person
from qingfeng.synth.writers import CsvOut, fmt_date

TABLE = "petition"
CHANNELS = ("来信", "来访", "网络", "12388电话")
STATUSES = ("待分流", "已转办", "已交办", "办理中", "已办结", "不予受理")
DOMAIN_CATEGORY = {"S": "民生资金", "E": "村级工程", "A": "集体三资", "P": "工资待遇"}
CATEGORIES = (*DOMAIN_CATEGORY.values(), "作风问题", "其他")
CONTENT = {
    "民生资金": "反映{who}优亲厚友，违规领取民生补助资金",
    "村级工程": "反映{who}在村级工程中指定施工单位、虚报工程量",
    "集体三资": "反映{who}将村集体资产低价出租给亲属",
    "工资待遇": "反映{who}在编不在岗、拖欠工资",
    "作风问题": "反映{who}工作作风粗暴，办事推诿",
    "其他": "反映{who}违规建房",
}
ANONYMOUS_RATE = 0.3
HOUSEHOLDS_PER_PETITION = 50  # background petitions: one per this many households
# background petitions: whom they name (cumulative probabilities) ...
KINDS = ((0.45, "innocent"), (0.65, "cadre"), (0.80, "village"), (0.90, "not_in_registry"), (1.0, "company"))
# ... and how they give a person's ID
ID_FORMS = ((0.75, "id"), (0.80, "legacy15"), (0.85, "typo"), (1.0, "name_only"))


@dataclass(frozen=True)
class Subject:
    pid: str | None
    name: str
    town: str
    village: str
    position: str = ""
    unit: str = ""
    respell: bool = True  # town and village as the registry has them: spelled as a clerk might


def _person(p: Person, position: str = "") -> Subject:
    return Subject(p.pid, p.name, p.town, p.village, position, p.village)


class Petitions:
    def __init__(self, d: District) -> None:
        self.d = d
        self.rng = random.Random(f"petition|{d.seed}")
        self.files = []
        for m in range(1, 13):
            title = f"萧山区纪委监委信访举报登记表（{d.year}年{m}月）"
            out = CsvOut(d.dir / f"信访举报登记_{d.year}{m:02d}.csv", "gb18030", TABLE, title=title)
            d.out[f"petition{m}"] = out
            self.files.append(out)
        self.seq = 0
        named = d.truth.named
        written = d.written or {}
        adult = dt.date(d.year - 18, 1, 1)
        self.innocents = [p for t in range(12) for p in d.pool[t] if p.pid not in named] + [
            p for p in written.values() if p.pid not in named and p.status == "正常" and p.birth < adult
        ]
        self.cadres = [  # the roster's town and village, already spelled as the roster has them
            Subject(c[0], c[1], c[2], c[3], c[4], c[3], respell=False) for c in d.cadres if c[0] not in named
        ]
        planted = dict.fromkeys(
            (rule, pid)
            for rule, pid in d.truth.clue_subjects
            if pid in written and written[pid].status == "正常"
        )
        self.planted = [(rule, written[pid]) for rule, pid in planted]

    def write(
        self, s: Subject, category: str, shown_id: str = "", *, anonymous: bool | None = None
    ) -> tuple[str, int]:
        d, rng = self.d, self.rng
        self.seq += 1
        month = (self.seq - 1) % 12 + 1
        out = self.files[month - 1]
        day = dt.date(d.year, month, 1 + int(rng.random() * 28))
        if anonymous is None:
            anonymous = rng.random() < ANONYMOUS_RATE
        reporter = "" if anonymous else rng.choice(N.SURNAMES) + rng.choice(N.GIVEN) + rng.choice(N.GIVEN)
        phone = "" if anonymous else f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        no = f"XF{d.year}{self.seq:05d}"
        town, village = spelled_division(s.town, s.village, no) if s.respell else (s.town, s.village)
        out.write(
            [
                no, rng.choice(CHANNELS), fmt_date(day, rng.choice((0, 0, 1, 2, 3))), reporter, phone, s.name,
                shown_id, s.unit, town, village, s.position, CONTENT[category].format(who=s.name or s.unit),
                category, rng.choice(STATUSES),
            ]
        )  # fmt: skip
        return out.name, out.line

    def about(
        self, s: Subject, category: str, form: str, kind: str, *, anonymous: bool | None = None
    ) -> None:
        """A petition naming person ``s``, with its ID in ``form``, and its truth line."""
        assert s.pid is not None
        shown = ""
        if form == "legacy15":
            shown = to_legacy15(s.pid) or ""
            form = form if shown else "id"  # born 2000 or later: there was never a 15-digit ID
        if form == "id":
            shown = s.pid
        elif form == "typo":
            shown = typo(s.pid, self.rng)
        at = self.write(s, category, shown, anonymous=anonymous)
        if form == "name_only":
            self.d.truth.lookalike(
                at, None, "petition_name_only", TABLE, nobody=True, review=s.pid, subject=kind
            )
        else:
            self.d.truth.mention(at, s.pid, f"petition_{form}", TABLE, subject=kind)

    def stranger(self, village_of: Person, homonym: bool) -> None:
        """Someone the registry does not know, named with a village and no ID: resolves to nobody,
        even when a villager bears the name."""
        rng = self.rng
        name = (
            village_of.name if homonym else rng.choice(N.SURNAMES) + rng.choice(N.GIVEN) + rng.choice(N.GIVEN)
        )
        s = Subject(None, name, village_of.town, village_of.village, "", village_of.village)
        at = self.write(s, self.rng.choice(CATEGORIES))
        not_ = village_of.pid if homonym else None
        self.d.truth.lookalike(
            at, not_, "petition_not_in_registry", TABLE, nobody=True, subject="not_in_registry"
        )

    def village(self, p: Person) -> None:
        s = Subject(None, "", p.town, p.village, "", f"{p.village}村委会")
        at = self.write(s, self.rng.choice(("集体三资", "作风问题", "村级工程")))
        self.d.truth.lookalike(at, None, "petition_village", TABLE, nobody=True, subject="village")

    def company(self) -> None:
        firm = self.rng.choice(self.d.companies)
        s = Subject(None, firm.name, firm.town, "", "", firm.name, respell=False)
        at = self.write(s, self.rng.choice(("工资待遇", "村级工程")))
        self.d.truth.lookalike(at, firm.rep.pid, "petition_company", TABLE, nobody=True, subject="company")


def _pick(table: tuple[tuple[float, str], ...], r: float) -> str:
    return next(v for upper, v in table if r < upper)


def write(d: District) -> None:
    """The planted petitions (``reps`` of each variant) and the background ones."""
    pt = Petitions(d)
    rng = pt.rng
    for _ in range(d.reps):
        cases = rng.sample(pt.planted, 4)
        for (rule, p), form in zip(cases, ("id", "legacy15", "typo", "name_only"), strict=True):
            pt.about(
                _person(p), DOMAIN_CATEGORY[rule[0]], form, "planted_case", anonymous=form == "name_only"
            )
        for form in ("id", "typo", "name_only"):
            pt.about(_person(rng.choice(pt.innocents), "村民"), rng.choice(CATEGORIES), form, "innocent")
        for form in ("id", "name_only"):
            pt.about(rng.choice(pt.cadres), rng.choice(CATEGORIES), form, "cadre")
        pt.stranger(rng.choice(pt.innocents), homonym=True)
        pt.stranger(rng.choice(pt.innocents), homonym=False)
        pt.village(rng.choice(pt.innocents))
        pt.company()
    for _ in range(d.households // HOUSEHOLDS_PER_PETITION):
        kind = _pick(KINDS, rng.random())
        if kind in ("innocent", "cadre"):
            s = _person(rng.choice(pt.innocents)) if kind == "innocent" else rng.choice(pt.cadres)
            pt.about(s, rng.choice(CATEGORIES), _pick(ID_FORMS, rng.random()), kind)
        elif kind == "not_in_registry":
            pt.stranger(rng.choice(pt.innocents), homonym=rng.random() < 0.5)
        elif kind == "village":
            pt.village(rng.choice(pt.innocents))
        else:
            pt.company()
