"""A01-A05: collective-asset leases. Plant leases are 公开竞价 with a platform number, normal rent
and term, and paid receivables, unless the planted feature says otherwise."""

from __future__ import annotations

import datetime as dt

from qingfeng.synth.background import RENT_BASE
from qingfeng.synth.district import District
from qingfeng.synth.plants.common import cadre, firm, sibling, single, towns, village


def plant(d: District) -> None:
    a01_peer_groups(d)
    for i in range(d.reps):
        t, other = towns(d, i)
        a01(d, t)
        a02(d, t)
        a03(d, t)
        a04(d, t)
        a05(d, t, other)


def _lease(
    d: District,
    t: int,
    asset: str = "厂房",
    *,
    ratio: float = 1.0,
    rent: float | None = None,
    lessee=None,
    method: str = "公开竞价",
    start: dt.date | None = None,
    years: int = 5,
    **kw,
) -> str:
    """A lease whose rent per unit area is ``ratio`` x the type's base (area derived from ``rent``)."""
    base = RENT_BASE[asset]
    if rent is None:
        area = 20.0 if asset in ("耕地", "林地", "鱼塘") else 500.0
        rent = round(area * base * ratio, 2)
    else:
        area = round(rent / (base * ratio), 1)
        rent = round(area * base * ratio, 2) if kw.get("exact") is None else rent
    kw.pop("exact", None)
    if lessee is None:
        p = d.take(t)
        lessee = (p.name, p.pid)
    return d.lease(
        t, village(d, t), asset, area, rent, lessee, method, start or dt.date(2022, 3, 1), years, **kw
    )


def a01_peer_groups(d: District) -> None:
    """仓库 (no background 仓库 at all): towns 0-1 rent at 2x base with 8 contracts each (their own
    peer group), town 2 at 0.7x and town 3 at 2x with 3 contracts (too few: district peers),
    towns 4-11 at 1x with 3 contracts. The district median is then about 1x base."""
    tr = d.truth
    level = {0: 2.0, 1: 2.0, 2: 0.7, 3: 2.0}
    for t in range(12):
        n = 8 if t < 2 else 3
        for k in range(n):
            _lease(
                d, t, "仓库", ratio=level.get(t, 1.0) * (0.97 + 0.01 * k), start=dt.date(2021 + k % 3, 4, 1)
            )
    for t in (0, 1):
        no = _lease(d, t, "仓库", ratio=0.8)
        tr.clue("A01", "0.8x base in a town of 2x rents with >= 5 town peers (town median)", contract=no)
    no = _lease(d, 2, "仓库", ratio=0.4)
    tr.clue(
        "A01", "0.4x base; the town has < 5 peers at 0.7x, so the district median (1x) applies", contract=no
    )
    no = _lease(d, 3, "仓库", ratio=0.8)
    tr.trap(
        "A01", "0.8x base; the town's few peers rent at 2x but the district median (1x) applies", contract=no
    )


def a01(d: District, t: int) -> None:
    tr = d.truth
    tr.clue("A01", "厂房 at 0.4x base", contract=_lease(d, t, "厂房", ratio=0.4))
    tr.clue("A01", "耕地 at 0.35x base", contract=_lease(d, t, "耕地", ratio=0.35))
    tr.trap("A01", "店面房 at 0.6x base (above half the median)", contract=_lease(d, t, "店面房", ratio=0.6))


def a02(d: District, t: int) -> None:
    tr = d.truth
    y = d.year

    def dues(*rows):
        return [(dt.date(y, m, day), amount, paid) for m, day, amount, paid in rows]

    rent = 40000.0
    q = rent / 4
    paid = lambda m: dt.date(y, m, 20)  # noqa: E731
    no = _lease(
        d,
        t,
        rent=rent,
        receivables=dues((1, 15, q, paid(1)), (4, 15, q, paid(4)), (7, 15, q, paid(7)), (10, 15, 0, None)),
    )
    tr.clue("A02", "October rent unpaid (108 days at as-of)", contract=no)
    no = _lease(
        d,
        t,
        rent=rent,
        receivables=dues(
            (1, 15, q, paid(1)), (4, 15, q, paid(4)), (7, 15, q * 0.8, paid(7)), (10, 15, q, paid(10))
        ),
    )
    tr.clue("A02", "July rent short-paid (80%)", contract=no)
    no = _lease(d, t, rent=rent, receivables=dues((6, 2, q, paid(6)), (12, 2, 0, None)))
    tr.trap("A02", "due 2 December: exactly 60 days overdue at as-of", contract=no)
    no = _lease(d, t, rent=rent, receivables=dues((6, 20, q, dt.date(y, 6, 25)), (12, 20, 0, None)))
    tr.trap("A02", "due 20 December: 42 days overdue", contract=no)


def a03(d: District, t: int) -> None:
    tr = d.truth
    start = dt.date(d.year, 3, 1)
    tr.clue("A03", "耕地 for 23 years", contract=_lease(d, t, "耕地", start=start, years=23))
    tr.clue("A03", "厂房 for 12 years", contract=_lease(d, t, "厂房", start=start, years=12))
    tr.trap("A03", "耕地 for exactly 20 years", contract=_lease(d, t, "耕地", start=start, years=20))
    tr.trap("A03", "店面房 for exactly 10 years", contract=_lease(d, t, "店面房", start=start, years=10))


def a04(d: District, t: int) -> None:
    tr = d.truth
    for note, method, rent, platform, is_case in (
        ("协议续租 at exactly 50000, unlisted", "协议续租", 50000.0, False, True),
        ("直接发包 80000, unlisted", "直接发包", 80000.0, False, True),
        ("协议续租 49999.99, unlisted", "协议续租", 49999.99, False, False),
        ("直接发包 90000 but listed", "直接发包", 90000.0, True, False),
        ("公开竞价 60000", "公开竞价", 60000.0, False, False),
    ):
        no = _lease(d, t, "厂房", rent=rent, exact=True, method=method, platform=platform)
        (tr.clue if is_case else tr.trap)("A04", note, contract=no)


def a05(d: District, t: int, other: int) -> None:
    tr = d.truth
    c, wife, *_ = cadre(d, t)
    sib = sibling(d, c)
    person = lambda p: (p.name, p.pid)  # noqa: E731
    company = lambda f: (f.name, f.code)  # noqa: E731
    tr.clue("A05", "lessee is the cadre's declared sibling", contract=_lease(d, t, lessee=person(sib[0])))
    tr.clue("A05", "lessee is the cadre", contract=_lease(d, t, lessee=person(c)))
    tr.clue(
        "A05",
        "lessee company's shareholder is the cadre's wife",
        contract=_lease(d, t, lessee=company(firm(d, t, holders=[wife]))),
    )
    tr.trap(
        "A05",
        "lease began before the cadre took office",
        contract=_lease(d, t, lessee=person(sib[0]), start=dt.date(2020, 5, 1), years=5),
    )
    far = cadre(d, other)[0]
    tr.trap(
        "A05",
        "sibling of a cadre of another 镇街",
        contract=_lease(d, t, lessee=person(sibling(d, far, t)[0])),
    )
    former = cadre(d, t, start=dt.date(2018, 1, 8), end=dt.date(2020, 12, 31))[0]
    tr.trap("A05", "sibling of a former cadre", contract=_lease(d, t, lessee=person(sibling(d, former)[0])))
    tr.trap("A05", "unrelated lessee", contract=_lease(d, t, lessee=person(single(d, t, 1972))))
