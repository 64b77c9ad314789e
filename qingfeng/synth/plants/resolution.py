"""Entity-resolution cases that every district carries, whatever its size: one subsidy row per
quirk (the recipient is a clean universal-allowance household), and a same-name neighbour."""

from __future__ import annotations

from qingfeng.synth import names as N
from qingfeng.synth.district import District
from qingfeng.synth.plants.common import new, single


def plant(d: District) -> None:
    tr = d.truth
    for i in range(d.reps):
        t = (i * 5 + 3) % 12
        for mode, case in (
            ("blank", "blank_id"),
            ("typo", "typo"),
            ("transposition", "transposition"),
            ("legacy15", "legacy15"),
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
                    tr.add(
                        "resolution",
                        table="subsidy_payment",
                        file=file,
                        line=line,
                        person_id=p.pid,
                        case=case,
                    )
        # 同名同姓: two households of one village with a person of the same name
        first = single(d, t, 1970)
        twin = new(d, t, [("户主", 1936, True)], first.village, write=False)[0]
        twin.name = first.name
        d.write_household([twin])
        for m in range(1, 13):
            file, line = d.pay(twin, N.ELDERLY, d.day(m), 200.0, id_mode="blank" if m == 2 else "")
            if m == 2:
                tr.add(
                    "resolution",
                    table="subsidy_payment",
                    file=file,
                    line=line,
                    person_id=twin.pid,
                    case="blank_id",
                )
                tr.add(
                    "resolution_trap",
                    table="subsidy_payment",
                    file=file,
                    line=line,
                    must_not_be=first.pid,
                    case="homonym",
                )
