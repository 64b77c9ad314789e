"""S01-S07: subsidy cases and their look-alikes. Every recipient household here is fresh and clean
except for the one planted feature."""

from __future__ import annotations

import datetime as dt

from qingfeng.synth import names as N
from qingfeng.synth.district import District
from qingfeng.synth.plants.common import (
    cadre,
    daughter_in_law,
    family,
    firm,
    married_out,
    new,
    sibling,
    single,
    towns,
)

LOW, SPEC, TEMP = N.PROGRAMMES_MEANS
ALL_YEAR = range(1, 13)


def plant(d: District) -> None:
    for i in range(d.reps):
        t, other = towns(d, i)
        s01(d, t)
        s02(d, t)
        s03(d, t, other)
        s04(d, t)
        s05(d, t)
        s06(d, t)
        s07(d, t)


def _mo(d: District, m: int) -> str:
    return f"{d.year}-{m:02d}"


def s01(d: District, t: int) -> None:
    tr = d.truth
    # registry 死亡 and death record agree; paid on for months
    p = single(d, t, 1938, write=False)
    d.die(p, d.day(4, 15), record=d.day(4, 15))
    d.write_household([p])
    d.monthly(p, N.ELDERLY, 200.0, ALL_YEAR)
    tr.clue(
        "S01", "paid months after death (registry and death record agree)", person=p.pid, programme=N.ELDERLY
    )
    # the two sources disagree: only the earlier registry date makes the April payment late
    p = single(d, t, 1936, write=False)
    d.die(p, d.day(3, 1), record=d.day(3, 20))
    d.write_household([p])
    d.monthly(p, N.ELDERLY, 200.0, range(1, 5))
    tr.clue(
        "S01",
        "last payment 40 days after the registry death, 21 after the death record: earliest counts",
        person=p.pid,
        programme=N.ELDERLY,
    )
    # only a death record, the registry still says 正常
    p = single(d, t, 1939, male=False)
    d.die(p, d.day(5, 5), registry=False, record=d.day(5, 5))
    d.monthly(p, N.DISABLED, 200.0, range(1, 9))
    tr.clue("S01", "death record only; registry still 正常", person=p.pid, programme=N.DISABLED)
    # deregistered after death: gone from the household export, known only from the death record
    p = single(d, t, 1934, write=False)
    d.die(p, d.day(3, 12), record=d.day(3, 12))
    d.monthly(p, N.ELDERLY, 300.0, ALL_YEAR)
    tr.clue(
        "S01", "deregistered after death: only the death record knows them", person=p.pid, programme=N.ELDERLY
    )
    p = single(d, t, 1933, male=False, write=False)
    d.die(p, d.day(2, 6), record=d.day(2, 6))
    for m in ALL_YEAR:  # every row's ID mistyped: reached through a repair of the death record's ID
        file, line = d.pay(p, N.ELDERLY, d.day(m), 300.0, id_mode="typo")
        if m == 6:
            tr.mention((file, line), p.pid, "death_record_only")
    tr.clue(
        "S01",
        "deregistered after death; the payment rows carry a mistyped ID",
        person=p.pid,
        programme=N.ELDERLY,
    )
    # trap: last payment exactly 30 days after death
    p = single(d, t, 1937, write=False)
    d.die(p, d.day(6, 10), record=d.day(6, 10))
    d.write_household([p])
    d.monthly(p, N.ELDERLY, 200.0, range(1, 8))
    tr.trap(
        "S01", "last payment exactly 30 days after death (grace period)", person=p.pid, programme=N.ELDERLY
    )
    p = single(d, t, 1935, male=False, write=False)
    d.die(p, d.day(8, 20), record=d.day(8, 20))
    d.write_household([p])
    d.monthly(p, N.ELDERLY, 200.0, range(1, 10))
    tr.trap("S01", "last payment 21 days after death", person=p.pid, programme=N.ELDERLY)


def s02(d: District, t: int) -> None:
    tr = d.truth
    head, _, son = family(d, t, 1960)
    d.payroll(son, t * 100 + 1, "在编", ALL_YEAR)
    for m in ALL_YEAR:
        file, line = d.pay(head, LOW, d.day(m), 1800.0, id_mode="blank" if m == 3 else "")
        if m == 3:
            tr.mention((file, line), head.pid, "blank_id")
    tr.clue(
        "S02", "son 在编 on public payroll all year; one row has a blank ID", person=head.pid, programme=LOW
    )
    head = family(d, t, 1975, kids=0)[0]
    d.payroll(head, t * 100 + 2, "编外", ALL_YEAR)
    d.pay(head, TEMP, d.day(6), 3000.0)
    tr.clue("S02", "recipient is 编外 staff", person=head.pid, programme=TEMP)
    # traps: a retired member; a member hired only after the payments stopped
    people = new(d, t, [("户主", 1968, True), ("配偶", 1969, False), ("父亲", 1942, True)])
    d.payroll(people[2], t * 100 + 3, "离退休", ALL_YEAR, gross=5000)
    d.monthly(people[0], LOW, 1800.0, ALL_YEAR)
    tr.trap("S02", "household member is 离退休 (not in service)", person=people[0].pid, programme=LOW)
    head, _, son = family(d, t, 1962)
    d.payroll(son, t * 100 + 4, "在编", range(7, 13))
    d.monthly(head, LOW, 1800.0, range(1, 7))
    tr.trap("S02", "son joins the payroll in July; payments stopped in June", person=head.pid, programme=LOW)


def s03(d: District, t: int, other: int) -> None:
    tr = d.truth
    c, _wife, daughter, daughter2, father = cadre(d, t)
    d.pay(c, N.DANGER_RURAL, d.day(5), 25000.0)
    tr.clue(
        "S03", "the cadre himself gets 农村危房改造补助", person=c.pid, cadre=c.pid, programme=N.DANGER_RURAL
    )
    sib = sibling(d, c)
    d.monthly(sib[1], LOW, 1800.0, ALL_YEAR)
    tr.clue("S03", "declared sibling's wife (2 steps)", person=sib[1].pid, cadre=c.pid, programme=LOW)
    son_in_law = married_out(d, daughter, t)
    d.pay(son_in_law, TEMP, d.day(8), 4000.0)
    tr.clue(
        "S03",
        "daughter's husband by marriage registration (2 steps)",
        person=son_in_law.pid,
        cadre=c.pid,
        programme=TEMP,
    )
    # traps
    in_law = daughter_in_law(d, sib[2], t)
    d.pay(in_law, TEMP, d.day(9), 3000.0)
    tr.trap(
        "S03", "3 steps: cadre -sibling- nephew -spouse- her", person=in_law.pid, cadre=c.pid, programme=TEMP
    )
    ex = married_out(d, daughter2, t, divorced=True)
    d.pay(ex, TEMP, d.day(10), 3000.0)
    tr.trap(
        "S03",
        "daughter's ex-husband: the marriage was undone by a later divorce",
        person=ex.pid,
        cadre=c.pid,
        programme=TEMP,
    )
    d.monthly(father, N.ELDERLY, 300.0, ALL_YEAR)
    tr.trap(
        "S03",
        "cadre's father gets a universal allowance",
        person=father.pid,
        cadre=c.pid,
        programme=N.ELDERLY,
    )
    far = cadre(d, other)[0]
    sib_far = sibling(d, far, t)
    d.pay(sib_far[0], TEMP, d.day(4), 5000.0)
    tr.trap("S03", "kin of a cadre of another 镇街", person=sib_far[0].pid, cadre=far.pid, programme=TEMP)
    former = cadre(d, t, start=dt.date(2018, 1, 8), end=dt.date(2022, 12, 31))[0]
    sib_f = sibling(d, former)
    d.monthly(sib_f[0], LOW, 1500.0, ALL_YEAR)
    tr.trap(
        "S03",
        "the cadre's term ended before the payments",
        person=sib_f[0].pid,
        cadre=former.pid,
        programme=LOW,
    )
    late = cadre(d, t, start=dt.date(d.year, 7, 1))[0]
    sib_l = sibling(d, late)
    d.pay(sib_l[0], TEMP, d.day(3), 2000.0)
    tr.trap("S03", "paid before the cadre took office", person=sib_l[0].pid, cadre=late.pid, programme=TEMP)


def s04(d: District, t: int) -> None:
    tr = d.truth
    p = single(d, t, 1970, male=False)
    acct = d.account()
    d.monthly(p, N.DISABLED, 200.0, ALL_YEAR, account=acct)
    d.pay(p, N.DISABLED, d.day(5, 25), 200.0, suffix="-补", account=acct)
    tr.clue(
        "S04", "regular and supplementary batch in May", person=p.pid, programme=N.DISABLED, month=_mo(d, 5)
    )
    head = family(d, t, 1972)[0]
    acct = d.account()
    d.monthly(head, LOW, 2000.0, ALL_YEAR, account=acct)
    d.pay(head, LOW, d.day(8, 28), 2000.0, suffix="-补", account=acct)
    tr.clue("S04", "低保 paid twice in August", person=head.pid, programme=LOW, month=_mo(d, 8))
    # traps: July's missed payment made good by a supplementary batch (one batch in July);
    # one person in two programmes in the same month
    p = single(d, t, 1966)
    acct = d.account()
    d.monthly(p, N.DISABLED, 200.0, [m for m in ALL_YEAR if m != 7], account=acct)
    d.pay(p, N.DISABLED, d.day(7, 26), 200.0, suffix="-补", account=acct)
    tr.trap("S04", "July paid only by a '-补' batch", person=p.pid, programme=N.DISABLED, month=_mo(d, 7))
    p = single(d, t, 1940)
    d.monthly(p, N.ELDERLY, 200.0, ALL_YEAR)
    d.pay(p, N.NURSING, d.day(3), 300.0)
    tr.trap("S04", "two programmes in one month", person=p.pid, programme=N.ELDERLY, month=_mo(d, 3))


def s05(d: District, t: int) -> None:
    tr = d.truth

    def recipient(
        note: str, trap: bool = False, months=ALL_YEAR, programme: str = LOW, amount: float = 1800.0
    ):
        people = family(d, t, 1965)
        d.monthly(people[0], programme, amount, months)
        (tr.trap if trap else tr.clue)("S05", note, person=people[0].pid, programme=programme)
        return people

    head = recipient("recipient owns a car")[0]
    d.own(head, "车辆", dt.date(2019, 5, 1))
    wife = recipient("wife owns a shop")[1]
    d.own(wife, "商铺", dt.date(2018, 3, 1))
    head = recipient("recipient owns two dwellings")[0]
    d.own(head, "住宅", dt.date(2005, 3, 1))
    d.own(head, "住宅", dt.date(2016, 8, 1))
    son = recipient("son is a shareholder of an active company")[2]
    firm(d, t, holders=[son], status="存续")
    head = recipient("recipient is legal representative of a company 在业")[0]
    firm(d, t, rep=head, status="在业")
    head = recipient("owns exactly one dwelling", trap=True)[0]
    d.own(head, "住宅", dt.date(2008, 3, 1))
    head = recipient("car deregistered before the payments", trap=True)[0]
    d.own(head, "车辆", dt.date(2015, 3, 1), dt.date(2022, 6, 1))
    head = recipient("shareholder of a 注销 company", trap=True)[0]
    firm(d, t, holders=[head], status="注销")
    head = recipient("car bought after the last payment", trap=True, months=range(1, 7))[0]
    d.own(head, "车辆", dt.date(d.year, 9, 1))
    p = single(d, t, 1938)
    d.monthly(p, N.ELDERLY, 200.0, ALL_YEAR)
    d.own(p, "商铺", dt.date(2001, 3, 1))
    tr.trap("S05", "universal allowance to a shop owner", person=p.pid, programme=N.ELDERLY)
    head = recipient(
        "农村危房改造补助 (discretionary, not means-tested) to a car owner",
        trap=True,
        months=[6],
        programme=N.DANGER_RURAL,
        amount=30000.0,
    )[0]
    d.own(head, "车辆", dt.date(2020, 3, 1))


def s06(d: District, t: int) -> None:
    tr = d.truth
    for n, is_case in ((3, True), (4, True), (2, False)):
        agent = single(d, t, 1975)
        acct = d.account()
        for _ in range(n):
            p = single(d, t, 1938, male=False)
            for m in ALL_YEAR:
                d.pay(p, N.ELDERLY, d.day(m), 200.0, account=acct, holder=agent.name)
        (tr.clue if is_case else tr.trap)(
            "S06", f"one card, held by {agent.name}, paid for {n} households", account=acct
        )
    people = new(d, t, [("户主", 1940, True), ("配偶", 1941, False), ("母亲", 1922, False)])
    acct = d.account()
    for p in people:
        for m in ALL_YEAR:
            d.pay(p, N.ELDERLY, d.day(m), 200.0, account=acct, holder=people[0].name)
    tr.trap("S06", "three recipients on one card, all of one household", account=acct)


def s07(d: District, t: int) -> None:
    tr = d.truth
    p = single(d, t, 1939)
    for m in ALL_YEAR:
        d.pay(p, N.ELDERLY, d.day(m), 600.0 if m == 6 else 200.0)
    tr.clue("S07", "高龄津贴 600 > 500", person=p.pid, programme=N.ELDERLY, month=_mo(d, 6))
    tr.trap("S07", "regular 200 in May", person=p.pid, programme=N.ELDERLY, month=_mo(d, 5))
    p = single(d, t, 1945)
    for m in ALL_YEAR:
        d.pay(p, SPEC, d.day(m), 2500.0 if m == 3 else 1500.0)
    tr.clue("S07", "特困 2500 > 2000", person=p.pid, programme=SPEC, month=_mo(d, 3))
    head = family(d, t, 1960, kids=0)[0]  # 2 living members: cap 2500
    for m in ALL_YEAR:
        d.pay(head, LOW, d.day(m), 2600.0 if m == 4 else 2500.0)
    tr.clue("S07", "低保 2600 for 2 members", person=head.pid, programme=LOW, month=_mo(d, 4))
    tr.trap("S07", "低保 exactly 2500 for 2 members", person=head.pid, programme=LOW, month=_mo(d, 5))
    people = new(d, t, [("户主", 1962, True), ("配偶", 1963, False), ("母亲", 1936, False)], write=False)
    d.die(people[2], d.day(3, 15), record=d.day(3, 15))
    d.write_household(people)
    d.monthly(people[0], LOW, 3000.0, ALL_YEAR)
    for m in ALL_YEAR:
        (tr.clue if m >= 4 else tr.trap)(
            "S07",
            "3000 for 3 living members until the mother died on 15 March, then 2",
            person=people[0].pid,
            programme=LOW,
            month=_mo(d, m),
        )
    p = family(d, t, 1980)[0]
    d.pay(p, TEMP, d.day(11), 12000.0)
    tr.clue("S07", "临时救助金 12000 > 10000", person=p.pid, programme=TEMP, month=_mo(d, 11))
    p = family(d, t, 1958)[0]
    d.pay(p, N.DANGER_RURAL, d.day(7), 40000.0)
    tr.trap("S07", "危房改造 exactly 40000", person=p.pid, programme=N.DANGER_RURAL, month=_mo(d, 7))
    p = family(d, t, 1961)[0]
    d.pay(p, N.FARMLAND, d.day(5, 20), 5200.0)
    tr.trap("S07", "耕地地力保护补贴 has no cap", person=p.pid, programme=N.FARMLAND, month=_mo(d, 5))
