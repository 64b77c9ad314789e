"""Persons and households: the registry rows every other feed refers to."""

from __future__ import annotations

import datetime as dt
import random

from qingfeng.synth.ids import IdFactory, to_legacy15
from qingfeng.synth.names import GIVEN, SURNAMES
from qingfeng.synth.writers import CsvOut, fmt_date


class Person:
    __slots__ = (
        "birth",
        "hh",
        "legacy",
        "male",
        "name",
        "pid",
        "rel",
        "status",
        "status_date",
        "town",
        "village",
    )

    def __init__(
        self, pid: str, name: str, male: bool, birth: dt.date, hh: str, rel: str, town: str, village: str
    ) -> None:
        self.pid = pid
        self.name = name
        self.male = male
        self.birth = birth
        self.hh = hh
        self.rel = rel
        self.town = town
        self.village = village
        self.status = "正常"
        self.status_date: dt.date | None = None
        self.legacy = False  # the registry still holds the 15-digit form

    def age(self, on: dt.date) -> int:
        return on.year - self.birth.year - ((on.month, on.day) < (self.birth.month, self.birth.day))

    def alive_on(self, day: dt.date) -> bool:
        return self.status != "死亡" or self.status_date is None or self.status_date > day


Member = tuple[str, int, bool]  # (与户主关系, birth year, male)


class Registry:
    """Creates households and writes their registry rows as it goes."""

    def __init__(self, out: CsvOut, rng: random.Random, ids: IdFactory) -> None:
        self.out = out
        self.rng = rng
        self.ids = ids
        self._seq: dict[int, int] = {}
        self.r = rng.random  # hot path: random() is ~20x cheaper than randint/choice

    def name(self, taken: set[str], surname: str | None = None) -> str:
        r, ng, ns = self.r, len(GIVEN), len(SURNAMES)
        while True:
            given = GIVEN[int(r() * ng)] if r() < 0.35 else GIVEN[int(r() * ng)] + GIVEN[int(r() * ng)]
            name = (surname or SURNAMES[int(r() * ns)]) + given
            if name not in taken:
                taken.add(name)
                return name

    def household_no(self, town_idx: int) -> str:
        n = self._seq.get(town_idx, 0)
        self._seq[town_idx] = n + 1
        return f"330109{town_idx:02d}{n:06d}"

    def create(
        self,
        town_idx: int,
        town: str,
        village: str,
        members: list[Member],
        *,
        names: dict[int, str] | None = None,
    ) -> list[Person]:
        """Persons of one new household (not yet written: callers may set statuses first)."""
        r = self.r
        hh = self.household_no(town_idx)
        taken: set[str] = set()
        head_surname = SURNAMES[int(r() * len(SURNAMES))]
        people = []
        for i, (rel, year, male) in enumerate(members):
            birth = dt.date(year, 1 + int(r() * 12), 1 + int(r() * 28))
            if names and i in names:
                name = names[i]
                taken.add(name)
            else:
                surname = head_surname if rel in ("子", "女", "孙子", "孙女", "父亲") else None
                name = self.name(taken, surname)
            people.append(Person(self.ids.issue(birth, male), name, male, birth, hh, rel, town, village))
        return people

    def write(self, people: list[Person]) -> None:
        r = self.r
        rows = []
        for p in people:
            shown = p.pid
            if p.legacy:
                shown = to_legacy15(p.pid) or p.pid
            elif shown[-1] == "X" and r() < 0.3:
                shown = shown[:-1] + "x"
            rows.append(
                [
                    shown, p.name, "男" if p.male else "女", p.pid[6:14], "汉族" if r() < 0.97 else "畲族",
                    p.hh, p.rel, f"浙江省杭州市萧山区{p.town}{p.village}{1 + int(r() * 300)}号", p.town, p.village,
                    p.status, fmt_date(p.status_date, (0, 0, 1, 2)[int(r() * 4)]) if p.status_date else "",
                ]
            )  # fmt: skip
        self.out.raw_many(rows)
