"""Clean background: households streamed village by village, then the small feeds (firms,
projects, leases, site wages) drawn from a pool of clean adults. Nothing here may trip a rule;
docs/synth.md explains why, rule by rule."""

from __future__ import annotations

import datetime as dt

from qingfeng.synth import names as N
from qingfeng.synth.district import District
from qingfeng.synth.people import Member, Person

RENT_BASE = {
    "耕地": 1000.0,
    "林地": 300.0,
    "鱼塘": 1500.0,
    "厂房": 200.0,
    "店面房": 600.0,
    "办公用房": 300.0,
    "仓库": 150.0,
}
LAND = ("耕地", "林地", "鱼塘")
BACKGROUND_TYPES = (
    "耕地",
    "林地",
    "鱼塘",
    "厂房",
    "店面房",
    "办公用房",
)  # 仓库 is reserved for the A01 peer-group plants


def composition(d: District, *, single_elderly: bool = False) -> list[Member]:
    r, ri, y = d.r, d.ri, d.year
    if single_elderly:
        return [("户主", ri(1935, 1955), r() < 0.5)]
    head_year = ri(1940, 1998)
    male = r() < 0.75
    members: list[Member] = [("户主", head_year, male)]
    if r() < 0.8:
        members.append(("配偶", head_year + ri(-3, 3), not male))
    if head_year < y - 24:
        for _ in range((0, 1, 1, 1, 2, 2, 3)[int(r() * 7)]):
            son = r() < 0.5
            members.append(("子" if son else "女", min(y - 1, head_year + ri(23, 35)), son))
    if head_year > 1960 and r() < 0.3:
        members.append(("父亲" if r() < 0.4 else "母亲", head_year - ri(24, 32), False))
        if members[-1][0] == "父亲":
            members[-1] = ("父亲", members[-1][1], True)
    return members


def generate(d: District) -> None:
    """Stream the background households. Per village: 4 cadre households (3 in office, one former),
    2 declared-relative households, then ordinary households of one kind each."""
    per_village, extra = divmod(d.households, len(d.villages))
    for vi, (t, village) in enumerate(d.villages):
        count = per_village + (1 if vi < extra else 0)
        _village(d, t, village, count)


def _village(d: District, t: int, village: str, count: int) -> None:
    rng = d.rng
    secretary: Person | None = None
    for i in range(count):
        if i < 4:
            people = d.household(t, composition(d), village)
            cadre = people[0] if i != 2 or len(people) == 1 else people[1]
            if i < 3:
                d.cadre(cadre, N.CADRE_POSTS[i], dt.date(2021, 1, rng.randint(5, 25)))
                secretary = secretary or cadre
                spouse = next((p for p in people if p.rel == "配偶"), None)
                if i == 0 and spouse is not None:
                    d.declare(cadre, spouse, "配偶")  # same household: adds nothing new to the graph
            else:
                d.cadre(cadre, "村委会主任", dt.date(2018, 1, 8), dt.date(2020, 12, 31))
            _ordinary_extras(d, people, t, allow_pool=False)
            continue
        if i < 6 and secretary is not None:
            people = d.household(t, composition(d), village)
            if all(r[2] != people[0].name for r in d.relatives[-2:]):  # (cadre, name, relation) is the key
                d.declare(secretary, people[0], "兄弟姐妹")
            _ordinary_extras(d, people, t, allow_pool=False)
            continue
        r = rng.random()
        if r < 0.08:
            _recipient(d, t, village, r)
        elif r < 0.11:
            people = d.household(t, composition(d), village)
            worker = next((p for p in people if 22 <= p.age(d.day(1)) <= 59), None)
            if worker is not None:
                cat = "在编" if rng.random() < 0.75 else "编外"
                d.payroll(worker, t * 100 + rng.randrange(5), cat, range(1, 13))
            elif people[0].age(d.day(1)) >= 60:
                d.payroll(
                    people[0],
                    t * 100 + rng.randrange(5),
                    "离退休",
                    range(1, 13),
                    gross=rng.randint(4000, 7000),
                )
            _ordinary_extras(d, people, t, allow_pool=False)
        elif r < 0.125:
            people = d.household(t, composition(d), village)
            oldest = min(people, key=lambda p: p.birth)
            on = d.day(rng.randint(1, 12), rng.randint(1, 28))
            mode = rng.random()
            d.die(
                oldest,
                on,
                registry=mode < 0.85 or mode > 0.93,
                record=on + dt.timedelta(days=rng.randint(0, 3)) if mode > 0.7 else None,
            )
            if mode > 0.93:  # deregistered: gone from the household export, known from the death record
                people.remove(oldest)
            d.write_household(people)
        else:
            people = d.household(t, composition(d), village)
            _ordinary_extras(d, people, t, allow_pool=True)


def _ordinary_extras(d: District, people: list[Person], t: int, *, allow_pool: bool) -> None:
    """Statuses, marriage registration, property, universal subsidies; written to the registry."""
    r, ri, y = d.r, d.ri, d.year
    head = people[0]
    spouse = next((p for p in people if p.rel == "配偶"), None)
    jan1 = d.day(1, 1)
    if len(people) > 2 and r() < 0.05:
        gone = people[-1]
        gone.status = "迁出"
        gone.status_date = dt.date(ri(2015, y), ri(1, 12), ri(1, 28))
    elif r() < 0.01 and any(p.rel in ("父亲", "母亲") for p in people):
        parent = next(p for p in people if p.rel in ("父亲", "母亲"))
        parent.status, parent.status_date = (
            "死亡",
            dt.date(ri(2010, y - 1), ri(1, 12), ri(1, 28)),
        )
    elif r() < 0.01 and head.birth.year < 1975:
        head.legacy = True
    d.write_household(people)
    if spouse is not None and r() < 0.4:
        h, w = (head, spouse) if head.male else (spouse, head)
        d.marry(
            h,
            w,
            dt.date(min(y - 1, max(h.birth.year, w.birth.year) + ri(22, 28)), ri(1, 12), ri(1, 28)),
        )
    roll = r()
    if roll < 0.4:
        d.own(head, "住宅", dt.date(ri(1998, 2010), ri(1, 12), 1))
        if roll < 0.08:
            d.own(head, "住宅", dt.date(ri(2011, 2022), ri(1, 12), 1))  # distinct key (owner, type, date)
    if r() < 0.25:
        d.own(head, "车辆", dt.date(ri(2010, 2022), ri(1, 12), 1))
    if r() < 0.03:
        d.own(head, "商铺", dt.date(ri(2005, 2022), ri(1, 12), 1))
    _universal(d, people, t)
    if allow_pool and len(d.pool[t]) < d.pool_cap:
        d.pool[t].extend(p for p in people if p.status == "正常" and 20 <= p.age(jan1) <= 58)


def _universal(d: District, people: list[Person], t: int) -> None:
    """Universal programmes: 高龄津贴 (80+), disability allowances, 耕地地力保护补贴 (rural towns)."""
    r, ri = d.r, d.ri
    jan1 = d.day(1, 1)
    for p in people:
        if p.status != "正常":
            continue
        age = p.age(jan1)
        if age >= 80:
            d.monthly(p, N.ELDERLY, 100.0 if age < 90 else 300.0, range(1, 13))
        elif r() < 0.03:
            d.monthly(
                p,
                N.DISABLED if r() < 0.7 else N.NURSING,
                float((150, 200, 300)[int(r() * 3)]),
                range(1, 13),
            )
    if N.TOWNS[t].endswith("镇") and r() < 0.3 and people[0].status == "正常":
        d.pay(people[0], N.FARMLAND, d.day(5, 20), float(ri(50, 600)))


def _recipient(d: District, t: int, village: str, r: float) -> None:
    """A means-tested or 危房 household: nobody on payroll, no vehicle/shop/second home, no firm,
    no cadre kinship, nobody dead or moved out (so the living-member count is the household size)."""
    rng = d.rng
    single = r < 0.012
    people = d.household(t, composition(d, single_elderly=single), village)
    head = people[0]
    homonym = _homonym(d, t, village, people)
    d.write_household(people)
    if rng.random() < 0.3:
        d.own(head, "住宅", dt.date(rng.randint(1998, 2020), rng.randint(1, 12), 1))
    for p in people:
        if p.age(d.day(1, 1)) >= 80:
            d.monthly(p, N.ELDERLY, 100.0, range(1, 13))
    acct = d.account()
    if single:
        programme, amount, months = N.PROGRAMMES_MEANS[1], float(rng.randint(1200, 1900)), list(range(1, 13))
    elif r < 0.065:
        programme, months = N.PROGRAMMES_MEANS[0], list(range(1, 13))
        amount = float(round(1250 * len(people) * rng.uniform(0.4, 0.9)))
    elif r < 0.075:
        programme, amount, months = (
            N.PROGRAMMES_MEANS[2],
            float(rng.randint(1000, 8000)),
            [rng.randint(1, 12)],
        )
    else:
        programme, amount, months = N.DANGER_RURAL, float(rng.randint(10000, 35000)), [rng.randint(3, 11)]
    holder = head.name
    if len(people) > 1 and rng.random() < 0.05:
        holder = people[1].name  # a household member's card: still one household per account
    for m in months:
        mode = _quirk(d, head)
        if homonym is not None and m == months[0]:
            mode = "blank"
        name = N.TRADITIONAL[head.name[0]] + head.name[1:] if mode == "traditional" else None
        file, line = d.pay(
            head, programme, d.day(m), amount, account=acct, holder=name or holder, id_mode=mode, name=name
        )
        if mode:
            d.truth.mention(
                (file, line),
                head.pid,
                "blank_id" if mode == "blank" else "traditional_name" if mode == "traditional" else mode,
            )
        if homonym is not None and m == months[0]:
            d.truth.lookalike((file, line), homonym.pid, "homonym")


# the ID or name quirk of a background subsidy row: (cumulative probability, quirk), docs/synth.md
QUIRKS = (
    (0.015, "blank"),
    (0.022, "typo"),
    (0.027, "transposition"),
    (0.035, "legacy15"),
    (0.045, "traditional"),
    (0.048, "legacy15_typo"),
    (0.049, "checksum_valid_typo"),
)


def _quirk(d: District, p: Person) -> str:
    r = d.rng.random()
    quirk = next((q for upper, q in QUIRKS if r < upper), "")
    if quirk.startswith("legacy15") and p.pid[6:8] != "19":
        return ""  # only those born 1900-1999 had a 15-digit ID
    if quirk == "traditional" and p.name[0] not in N.TRADITIONAL:
        return ""
    return quirk


def _homonym(d: District, t: int, village: str, people: list[Person]) -> Person | None:
    """Now and then give the recipient the name of a pooled adult of the same village (同名同姓)."""
    if d.rng.random() > 0.05:
        return None
    other = next((p for p in reversed(d.pool[t][-40:]) if p.village == village), None)
    if other is None or any(p.name == other.name for p in people[1:]):
        return None
    people[0].name = other.name
    return other


def sizes(d: District) -> tuple[int, int]:
    """Projects and leases per village, scaled with the district."""
    hv = d.households / len(d.villages)
    return 1 + int(hv // 400), 2 + int(hv // 300)


def pool_cap(d: District) -> int:
    ppv, lpv = sizes(d)
    per_town = -(-len(d.villages) // 12)
    return per_town * (ppv * 8 + lpv * 2) + (ppv + 3) * 3 + 60


def small_feeds(d: District) -> None:
    """Firms, projects with payments and site wages, leases with receivables: all by the book."""
    rng = d.rng
    ppv, lpv = sizes(d)
    contractors = {
        t: [d.company(t, d.take(t), [d.take(t)], rng.choice(("存续", "在业"))) for _ in range(ppv + 3)]
        for t in range(12)
    }
    for t, village in d.villages:
        firms = rng.sample(contractors[t], ppv)  # one contract per firm per village: E01 cannot fire
        for firm in firms:
            approval = d.day(rng.randint(1, 8), rng.randint(1, 28))
            accepted = rng.random() < 0.85
            if rng.random() < 0.5:
                amount = float(rng.randint(200, 950) * 100)
                d.project(
                    t,
                    village,
                    firm,
                    amount,
                    rng.choice(("直接委托", "村级自行发包")),
                    1,
                    approval,
                    accept=90 if accepted else None,
                )
            else:
                amount = float(rng.randint(1200, 9000) * 100)
                method = rng.choice(("公开招标", "邀请招标", "竞争性比选"))
                no = d.project(
                    t,
                    village,
                    firm,
                    amount,
                    method,
                    rng.randint(3, 8),
                    approval,
                    accept=90 if accepted else None,
                )
                _site(d, t, no, firm, approval)
        for _ in range(lpv):
            _lease(d, t, village)


def _site(d: District, t: int, project: str, firm, approval: dt.date) -> None:
    """Site workers, each on this one project only, paid in full to their own account."""
    rng = d.rng
    first = (approval + dt.timedelta(days=28)).month
    months = range(first, min(12, first + 3) + 1)
    for _ in range(rng.randint(4, 7)):
        worker = d.take(t)
        gross = float(rng.randint(50, 80) * 100)
        acct = d.account()
        for m in months:
            d.wage(project, firm, worker, m, gross, gross, acct)


def _lease(d: District, t: int, village: str) -> None:
    rng = d.rng
    asset = rng.choice(BACKGROUND_TYPES)
    area = float(rng.randint(10, 80)) if asset in LAND else float(rng.randint(10, 200) * 10)
    rent = round(area * RENT_BASE[asset] * rng.uniform(0.92, 1.08), 2)
    r = rng.random()
    method = "公开竞价" if r < 0.75 else "协议续租" if r < 0.9 else "直接发包"
    if rng.random() < 0.7:
        p = d.take(t)
        lessee = (p.name, p.pid)
    else:
        firm = d.company(t, d.take(t), [], "存续", "农业开发有限公司")
        lessee = (firm.name, firm.code)
    start = dt.date(rng.randint(2019, 2023), rng.randint(1, 12), 1)
    start = max(start, dt.date(2019, 6, 1))
    years = rng.randint(5, 15) if asset in LAND else rng.randint(5, 9)
    d.lease(
        t,
        village,
        asset,
        area,
        rent,
        lessee,
        method,
        start,
        years,
        platform=method == "公开竞价" or rent >= 45000,
    )
