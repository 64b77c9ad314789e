"""Entity-resolution cases that every district carries, whatever its size: one subsidy row per
quirk (the recipient is a clean universal-allowance household), and the look-alikes that must not
be linked: a same-name neighbour, a recipient from another province, a baby not yet registered."""

from __future__ import annotations

import datetime as dt

from qingfeng.synth import names as N
from qingfeng.synth.district import District
from qingfeng.synth.people import Person
from qingfeng.synth.plants.common import new, single

LOW, _, TEMP = N.PROGRAMMES_MEANS


def plant(d: District) -> None:
    tr = d.truth
    for i in range(d.reps):
        t = (i * 5 + 3) % 12
        for mode, case in (
            ("blank", "blank_id"),
            ("typo", "typo"),
            ("transposition", "transposition"),
            ("legacy15", "legacy15"),
            ("legacy15_typo", "legacy15_typo"),
            ("checksum_valid_typo", "checksum_valid_typo"),
            ("traditional", "traditional_name"),
        ):
            people = d.household(t, [("户主", 1938, i % 2 == 0)])
            p = people[0]
            if mode == "traditional":
                p.name = "陈" + p.name[1:]
            p.legacy = mode == "blank"  # the registry still holds this one's 15-digit ID
            d.write_household(people)
            for m in range(1, 13):
                name = "陳" + p.name[1:] if mode == "traditional" and m == 6 else None
                file, line = d.pay(
                    p, N.ELDERLY, d.day(m), 200.0, id_mode=mode if m == 6 else "", name=name, holder=name
                )
                if m == 6:
                    tr.mention((file, line), p.pid, case)
        # 同名同姓: two households of one village with a person of the same name
        first = single(d, t, 1970)
        twin = new(d, t, [("户主", 1936, True)], first.village, write=False)[0]
        twin.name = first.name
        d.write_household([twin])
        for m in range(1, 13):
            file, line = d.pay(twin, N.ELDERLY, d.day(m), 200.0, id_mode="blank" if m == 2 else "")
            if m == 2:
                tr.mention((file, line), twin.pid, "blank_id")
                tr.lookalike((file, line), first.pid, "homonym")
        non_local(d, t)
        newborn(d, (t + 1) % 12)


def non_local(d: District, t: int) -> None:
    """A 低保 recipient from another province (valid ID, no 户号 here) with the name of a villager.
    Nobody in the registry is them: they stay unresolved, so no household-size clue is guessed, and
    the villager, a household of one, must not be chosen (1 800 would be over a cap for one)."""
    local = single(d, t, 1975)
    birth = dt.date(1976, 3, 8)
    stranger = Person(
        d.ids.issue(birth, True, area="410102"),
        local.name,
        True,
        birth,
        "",
        "户主",
        local.town,
        local.village,
    )
    for m in (5, 6, 7):
        file, line = d.pay(stranger, LOW, d.day(m), 1800.0)
        month = f"{d.year}-{m:02d}"
        for who, note in (
            (stranger, "non-local recipient: household unknown"),
            (local, "the villager of that name"),
        ):
            d.truth.trap("S07", note, person=who.pid, programme=LOW, month=month)
        if m == 5:
            d.truth.lookalike((file, line), local.pid, "non_local", nobody=True)


def newborn(d: District, t: int) -> None:
    """A baby born in December, paid 临时救助金 under her own valid ID and the family's 户号 before
    the registry export lists her. She resolves to nobody; her sister, one character apart in name
    and in the same household, must not be chosen."""
    people = new(d, t, [("户主", 1990, True), ("配偶", 1991, False), ("女", 2019, False)])
    sister = people[2]
    given = next(
        c for c in N.GIVEN if c != sister.name[-1] and sister.name[:-1] + c not in {p.name for p in people}
    )
    birth = dt.date(d.year, 12, 2)
    baby = Person(
        d.ids.issue(birth, False),
        sister.name[:-1] + given,
        False,
        birth,
        sister.hh,
        "女",
        sister.town,
        sister.village,
    )
    file, line = d.pay(baby, TEMP, d.day(12, 20), 3000.0, holder=people[0].name)  # the father's card
    d.truth.lookalike((file, line), sister.pid, "newborn", nobody=True)
