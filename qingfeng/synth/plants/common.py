"""Helpers shared by the planters: fresh clean households, cadres with declared kin, clean projects."""

from __future__ import annotations

import datetime as dt

from qingfeng.synth import names as N
from qingfeng.synth.district import Company, District
from qingfeng.synth.people import Member, Person

IN_OFFICE = dt.date(2021, 1, 10)


def new(
    d: District, t: int, members: list[Member], village: str | None = None, write: bool = True
) -> list[Person]:
    people = d.household(t, members, village)
    if write:
        d.write_household(people)
    return people


def family(
    d: District, t: int, head_year: int = 1968, kids: int = 1, village: str | None = None, write: bool = True
) -> list[Person]:
    """Head (man), wife, ``kids`` sons: a household with nothing else attached."""
    members: list[Member] = [("户主", head_year, True), ("配偶", head_year + 1, False)]
    members += [("子", head_year + 26 + k, True) for k in range(kids)]
    return new(d, t, members, village, write)


def single(
    d: District, t: int, year: int, male: bool = True, village: str | None = None, write: bool = True
) -> Person:
    return new(d, t, [("户主", year, male)], village, write)[0]


def cadre(d: District, t: int, *, start: dt.date = IN_OFFICE, end: dt.date | None = None) -> list[Person]:
    """A cadre household: cadre (head), wife, two daughters, father (85). Returns the household."""
    people = new(
        d,
        t,
        [
            ("户主", 1966, True),
            ("配偶", 1967, False),
            ("女", 1990, False),
            ("女", 1992, False),
            ("父亲", 1937, True),
        ],
    )
    d.cadre(people[0], "村委委员", start, end)
    return people


def sibling(d: District, c: Person, t: int | None = None, kids: int = 1) -> list[Person]:
    """A declared sibling of cadre ``c`` heading their own household (wife, ``kids`` sons)."""
    people = family(d, N.TOWNS.index(c.town) if t is None else t, 1963, kids)
    d.declare(c, people[0], "兄弟姐妹")
    return people


def married_out(d: District, wife: Person, t: int, *, divorced: bool = False) -> Person:
    """A husband in his own household, married by registration to ``wife`` (optionally divorced)."""
    husband = single(d, t, wife.birth.year - 1, True)
    d.marry(husband, wife, dt.date(2015, 5, 20))
    if divorced:
        d.marry(husband, wife, dt.date(2020, 9, 8), "离婚登记")
    return husband


def daughter_in_law(d: District, son: Person, t: int) -> Person:
    """A woman registered as 女 in her parents' household, married by registration to ``son``."""
    people = new(d, t, [("户主", son.birth.year - 27, True), ("女", son.birth.year + 1, False)])
    d.marry(son, people[1], dt.date(2019, 10, 1))
    return people[1]


def firm(
    d: District, t: int, rep: Person | None = None, holders: list[Person] | None = None, status: str = "存续"
) -> Company:
    return d.company(t, rep or d.take(t), holders if holders is not None else [d.take(t)], status)


def village(d: District, t: int) -> str:
    return d.rng.choice(d.villages_of[t])


def clean_project(
    d: District,
    t: int,
    winner: Company | None = None,
    amount: float = 300000.0,
    method: str = "公开招标",
    bidders: int = 5,
    month: int = 3,
    vil: str | None = None,
    **kw,
) -> str:
    return d.project(
        t, vil or village(d, t), winner or firm(d, t), amount, method, bidders, d.day(month, 1), **kw
    )


def towns(d: District, i: int) -> tuple[int, int]:
    """Two different towns for plant variant ``i``."""
    t = (i * 5 + 1) % 12
    return t, (t + 7) % 12
