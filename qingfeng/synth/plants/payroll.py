"""P01-P05: payroll and site wages. Plant projects are clean (tendered, paid by the book)."""

from __future__ import annotations

from qingfeng.synth.district import Company, District
from qingfeng.synth.people import Person
from qingfeng.synth.plants.common import clean_project, family, firm, single, towns

ALL_YEAR = range(1, 13)


def plant(d: District) -> None:
    for i in range(d.reps):
        t, _ = towns(d, i)
        p01(d, t)
        p02(d, t)
        p03(d, t)
        p04(d, t)
        p05(d, t)


def _site(d: District, t: int) -> tuple[str, Company]:
    winner = firm(d, t)
    return clean_project(d, t, winner), winner


def _work(
    d: District, site: tuple[str, Company], p: Person, months, ratio: float = 1.0, account: str | None = None
) -> None:
    account = account or d.account()
    for m in months:
        d.wage(site[0], site[1], p, m, 6000.0, round(6000.0 * ratio, 2), account)


def p01(d: District, t: int) -> None:
    tr = d.truth
    home = family(d, t, 1975, kids=0, write=False)
    d.die(home[0], d.day(5, 20), record=d.day(5, 20))
    d.write_household(home)
    d.payroll(home[0], t * 100 + 1, "在编", ALL_YEAR)
    tr.clue("P01", "salary paid for seven months after death", person=home[0].pid)
    site = _site(d, t)
    p = single(d, t, 1980)
    d.die(p, d.day(4, 3), registry=False, record=d.day(4, 3))
    _work(d, site, p, (3, 4, 5))
    tr.clue("P01", "site wage for May; died 3 April (death record only)", person=p.pid)
    home = family(d, t, 1972, kids=0, write=False)
    d.die(home[0], d.day(6, 15), record=d.day(6, 15))
    d.write_household(home)
    d.payroll(home[0], t * 100 + 2, "在编", range(1, 7))
    tr.trap("P01", "last salary in the month of death", person=home[0].pid)
    p = single(d, t, 1971, write=False)  # deregistered: not in the household export
    d.die(p, d.day(7, 2), record=d.day(7, 2))
    d.payroll(p, t * 100 + 3, "在编", ALL_YEAR)
    tr.clue("P01", "salary after death; deregistered, only the death record knows them", person=p.pid)
    p = single(d, t, 1978)
    d.die(p, d.day(9, 5), record=d.day(9, 5))
    _work(d, site, p, (8, 9))
    tr.trap("P01", "site wage for the month of death", person=p.pid)


def p02(d: District, t: int) -> None:
    tr = d.truth
    p = single(d, t, 1985)
    d.payroll(p, t * 100 + 1, "在编", ALL_YEAR)
    d.payroll(p, t * 100 + 3, "编外", range(3, 9))
    tr.clue("P02", "在编 at one employer and 编外 at another, March-August", person=p.pid)
    p = single(d, t, 1986, male=False)
    d.payroll(p, t * 100 + 1, "在编", range(1, 7))
    d.payroll(p, t * 100 + 2, "在编", range(7, 13))
    tr.trap("P02", "moved employer in July", person=p.pid)
    p = single(d, t, 1984)
    d.payroll(p, t * 100 + 2, "在编", ALL_YEAR, coded=False)
    d.payroll(p, t * 100 + 4, "编外", range(5, 10))
    tr.clue("P02", "在编 at a unit exporting no 单位代码, 编外 at another, May-September", person=p.pid)
    p = single(d, t, 1987, male=False)
    d.payroll(p, t * 100 + 1, "在编", range(1, 7))
    d.payroll(p, t * 100 + 3, "在编", range(7, 13), coded=False)
    tr.trap("P02", "moved in July to a unit exporting no 单位代码", person=p.pid)
    p = single(d, t, 1958)
    d.payroll(p, t * 100 + 1, "在编", ALL_YEAR)
    d.payroll(p, t * 100 + 4, "离退休", ALL_YEAR, gross=4000)
    tr.trap("P02", "in service at one employer, a pension from another", person=p.pid)


def p03(d: District, t: int) -> None:
    tr = d.truth

    def project(note: str, bad: dict[int, int], ratio: float, is_case: bool) -> None:
        site = _site(d, t)
        for w in range(5):
            p = d.take(t)
            acct = d.account()
            for m in (3, 4, 5, 6):
                short = w < bad.get(m, 0)
                d.wage(site[0], site[1], p, m, 6000.0, round(6000.0 * (ratio if short else 1.0), 2), acct)
        (tr.clue if is_case else tr.trap)("P03", note, project=site[0])

    project("3 workers paid 80% in March and April", {3: 3, 4: 3}, 0.8, True)
    project("4 workers paid 50% in April, May and June", {4: 4, 5: 4, 6: 4}, 0.5, True)
    project("3 workers short in March only", {3: 3}, 0.8, False)
    project("2 workers short in March and April", {3: 2, 4: 2}, 0.8, False)
    project("3 workers paid exactly 90% in March and April", {3: 3, 4: 3}, 0.9, False)
    project("3 workers short in March and May (not consecutive)", {3: 3, 5: 3}, 0.8, False)


def p04(d: District, t: int) -> None:
    tr = d.truth
    a, b = _site(d, t), _site(d, t)
    p = single(d, t, 1983)
    d.payroll(p, t * 100 + 2, "在编", ALL_YEAR)
    _work(d, a, p, (5, 6))
    tr.clue("P04", "在编 civil servant also on a site wage list", person=p.pid)
    p = d.take(t)
    _work(d, a, p, (7,))
    _work(d, b, p, (7,))
    tr.clue("P04", "on two projects' wage lists in July", person=p.pid)
    p = single(d, t, 1960)
    d.payroll(p, t * 100 + 3, "离退休", ALL_YEAR, gross=4500)
    _work(d, a, p, (5, 6))
    tr.trap("P04", "a pensioner working on site", person=p.pid)
    p = d.take(t)
    _work(d, a, p, (3,))
    _work(d, b, p, (4,))
    tr.trap("P04", "moved between projects from March to April", person=p.pid)


def p05(d: District, t: int) -> None:
    tr = d.truth
    for note, groups, is_case in (
        ("5 workers paid into one account in June", ((6, 5),), True),
        ("4 workers paid into one account", ((6, 4),), False),
        ("3 workers in June and 2 others in July into one account", ((6, 3), (7, 2)), False),
    ):
        site = _site(d, t)
        acct = d.account()
        for month, n in groups:
            for _ in range(n):
                _work(d, site, d.take(t), (month,), account=acct)
        (tr.clue if is_case else tr.trap)("P05", note, account=acct)
