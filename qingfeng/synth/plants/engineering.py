"""E01-E07: village engineering cases and look-alikes, each on fresh firms so nothing else fires."""

from __future__ import annotations

import datetime as dt

from qingfeng.synth.district import District
from qingfeng.synth.plants.common import (
    cadre,
    clean_project,
    daughter_in_law,
    firm,
    sibling,
    single,
    towns,
    village,
)

AMOUNT = 300000.0


def plant(d: District) -> None:
    for i in range(d.reps):
        t, other = towns(d, i)
        e01(d, t)
        e02(d, t)
        e03(d, t)
        e04(d, t, other)
        e05_e06(d, t)
        e07(d, t)


def e01(d: District, t: int) -> None:
    """Sub-limit contracts of one firm in one village; sign dates = approval + 22 days."""
    tr = d.truth
    base = d.day(2, 1)
    variants = (
        (
            "two direct contracts 40 days apart, 110000 together",
            True,
            [(0, 60000.0, "直接委托"), (40, 50000.0, "村级自行发包")],
        ),
        (
            "two contracts 90 days apart, exactly 100000 together",
            True,
            [(0, 50000.0, "直接委托"), (90, 50000.0, "直接委托")],
        ),
        (
            "three contracts within 60 days",
            True,
            [(0, 40000.0, "直接委托"), (30, 40000.0, "直接委托"), (60, 40000.0, "村级自行发包")],
        ),
        (
            "second contract 91 days after the first",
            False,
            [(0, 60000.0, "直接委托"), (91, 50000.0, "直接委托")],
        ),
        (
            "one of the two is at the limit (tendered)",
            False,
            [(0, 100000.0, "公开招标"), (20, 30000.0, "直接委托")],
        ),
        ("together 99999.99, below the limit", False, [(0, 50000.0, "直接委托"), (30, 49999.99, "直接委托")]),
    )
    for note, is_case, contracts in variants:
        vil = village(d, t)
        winner = firm(d, t)
        for off, amount, method in contracts:
            bidders = 4 if method == "公开招标" else 1
            d.project(t, vil, winner, amount, method, bidders, base + dt.timedelta(days=off))
        (tr.clue if is_case else tr.trap)("E01", note, village=vil, company=winner.code)
    # the same firm in two villages: neither village reaches the limit
    winner = firm(d, t)
    v1, v2 = (
        d.rng.sample(d.villages_of[t], 2)
        if len(d.villages_of[t]) > 1
        else (village(d, t), village(d, (t + 1) % 12))
    )
    d.project(t, v1, winner, 60000.0, "直接委托", 1, base)
    t2 = t if v2 in d.villages_of[t] else (t + 1) % 12
    d.project(t2, v2, winner, 50000.0, "直接委托", 1, base + dt.timedelta(days=10))
    tr.trap("E01", "same firm, two villages", village=v1, company=winner.code)


def e02(d: District, t: int) -> None:
    tr = d.truth
    s = 22  # sign offset
    cases = (
        ("signed before the award", dict(award=25)),
        ("awarded before approval", dict(award=-5)),
        ("works started before signing", dict(start=15)),
        ("a payment before signing", dict(pays=[(15, 0.1), (s + 20, 0.3), (s + 50, 0.3), (105, 0.27)])),
        ("85% paid before acceptance", dict(pays=[(s + 20, 0.45), (s + 50, 0.40), (105, 0.1)])),
        ("85% paid, never accepted", dict(accept=None, pays=[(s + 20, 0.45), (s + 50, 0.40)])),
    )
    traps = (
        ("first payment on the signing day", dict(pays=[(s, 0.3), (s + 50, 0.4), (105, 0.27)])),
        ("exactly 80% before acceptance", dict(pays=[(s + 20, 0.4), (s + 50, 0.4), (105, 0.2)])),
        ("works start on the signing day", dict(start=s)),
        ("awarded on the approval day", dict(award=0)),
    )
    for group, add in ((cases, tr.clue), (traps, tr.trap)):
        for note, kw in group:
            add("E02", note, project=clean_project(d, t, **kw))


def e03(d: District, t: int) -> None:
    tr = d.truth
    no = clean_project(d, t, pays=[(42, 0.3), (72, 0.4), (105, 0.45)])
    tr.clue("E03", "115% of the contract paid", project=no)
    no = clean_project(d, t, pays=[(42, 0.3), (72, 0.4), (105, 0.4)])
    tr.trap("E03", "exactly 110% paid", project=no)


def e04(d: District, t: int, other: int) -> None:
    tr = d.truth
    c, wife, *_ = cadre(d, t)
    sib = sibling(d, c)

    def award(note: str, winner, is_case: bool, town: int = t) -> None:
        no = clean_project(d, town, winner)
        (tr.clue if is_case else tr.trap)("E04", note, project=no, company=winner.code)

    award("legal representative is the cadre's declared sibling", firm(d, t, rep=sib[0]), True)
    award("the cadre is a shareholder", firm(d, t, holders=[c]), True)
    award("the cadre's wife is a shareholder", firm(d, t, holders=[wife]), True)
    far = cadre(d, other)[0]
    award("legal representative is a cadre of another 镇街", firm(d, t, rep=far), False)
    former = cadre(d, t, start=dt.date(2018, 1, 8), end=dt.date(2022, 12, 31))[0]
    award("legal representative's cadre term ended before signing", firm(d, t, rep=former), False)
    in_law = daughter_in_law(d, sib[2], t)
    award("legal representative is 3 steps from the cadre", firm(d, t, rep=in_law), False)
    award("unrelated shareholder", firm(d, t, holders=[single(d, t, 1970)]), False)


def e05_e06(d: District, t: int) -> None:
    tr = d.truth
    for note, method, bidders, amount, is_case in (
        ("公开招标 with 2 bidders", "公开招标", 2, AMOUNT, True),
        ("竞争性比选 with 1 bidder", "竞争性比选", 1, 150000.0, True),
        ("邀请招标 with exactly 3 bidders", "邀请招标", 3, AMOUNT, False),
        ("direct award has 1 bidder by nature", "直接委托", 1, 80000.0, False),
    ):
        (tr.clue if is_case else tr.trap)(
            "E05", note, project=clean_project(d, t, amount=amount, method=method, bidders=bidders)
        )
    for note, method, bidders, amount, is_case in (
        ("直接委托 exactly at the limit", "直接委托", 1, 100000.0, True),
        ("村级自行发包 150000", "村级自行发包", 1, 150000.0, True),
        ("村级自行发包 99999.99", "村级自行发包", 1, 99999.99, False),
        ("tendered 500000", "公开招标", 3, 500000.0, False),
    ):
        (tr.clue if is_case else tr.trap)(
            "E06", note, project=clean_project(d, t, amount=amount, method=method, bidders=bidders)
        )


def e07(d: District, t: int) -> None:
    tr = d.truth
    sub = firm(d, t)
    no = clean_project(d, t, pays=[(42, 0.3), (72, 0.4, sub.name, sub.account), (105, 0.27)])
    tr.clue("E07", "a payment to another company", project=no)
    winner = firm(d, t)
    no = clean_project(d, t, winner, pays=[(42, 0.3), (72, 0.4), (105, 0.27, winner.rep.name, d.account())])
    tr.clue("E07", "a payment to the legal representative personally", project=no)
    winner = firm(d, t)
    no = clean_project(d, t, winner, pays=[(42, 0.3), (72, 0.4, winner.name, "3301" + "9" * 10), (105, 0.27)])
    tr.trap("E07", "the winner paid into another account of its own", project=no)
