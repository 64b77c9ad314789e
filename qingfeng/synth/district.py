"""The district: open exports, shared helpers every planter uses (payments, payroll, property,
companies, projects, leases, wages) and the streaming background households."""

from __future__ import annotations

import datetime as dt
import random
import zlib
from pathlib import Path

from qingfeng.synth import names as N
from qingfeng.synth.divisions import spelled_division
from qingfeng.synth.ids import (
    IdFactory,
    credit_code,
    legacy15_typo,
    spelled_account,
    to_legacy15,
    transpose,
    typo,
)
from qingfeng.synth.people import Member, Person, Registry
from qingfeng.synth.writers import CsvOut, Truth, fmt_date, iso, money, money_field

DATE_STYLES = (0, 0, 0, 1, 1, 3, 2)


class Company:
    __slots__ = ("code", "holders", "name", "rep", "status", "town")

    def __init__(
        self, code: str, name: str, rep: Person, holders: list[tuple[Person, float]], status: str, town: str
    ) -> None:
        self.code, self.name, self.rep, self.holders, self.status, self.town = (
            code,
            name,
            rep,
            holders,
            status,
            town,
        )

    @property
    def account(self) -> str:
        return "3301" + self.code[8:]


class District:
    def __init__(self, out_dir: Path, households: int, seed: int, year: int) -> None:
        self.dir = out_dir
        self.households = households
        self.seed = seed
        self.year = year
        self.rng = random.Random(seed)
        self.r = self.rng.random  # hot paths use random() directly: randint/choice are ~10x dearer
        self.ids = IdFactory()
        self.as_of = dt.date(year + 1, 1, 31)
        self._tenths = [dt.date(year, 1, 10)] + [dt.date(year, m, 10) for m in range(1, 13)]
        self._tenth_texts = [[fmt_date(day, style) for style in range(4)] for day in self._tenths]
        nv = max(24, min(600, households // 800))
        self.villages: list[tuple[int, str]] = [(i % 12, v) for i, v in enumerate(N.village_names(nv))]
        self.villages_of: dict[int, list[str]] = {}
        for t, v in self.villages:
            self.villages_of.setdefault(t, []).append(v)
        self.reps = 2 + households // 100_000  # planted cases per rule variant
        self._acct = 0
        self._codes: set[str] = set()
        self._open()
        self.registry = Registry(self.out["registry"], self.rng, self.ids)
        self.pool: dict[int, list[Person]] = {
            t: [] for t in range(12)
        }  # clean adults for firms, leases, sites
        self.pool_cap = 0  # set from background.pool_cap
        self.cadres: list[tuple] = []
        self.relatives: list[tuple] = []
        self.companies: list[Company] = []
        self._project_seq = 0
        self._lease_seq = 0
        self.clerks = {t: [self.registry.name(set()) for _ in range(4)] for t in range(12)}
        # persons written from here on, by ID (None: not kept; the background streams without it)
        self.written: dict[str, Person] | None = None

    # ---------------------------------------------------------------- files
    def _open(self) -> None:
        d, y = self.dir, self.year
        self.out = {
            "registry": CsvOut(d / f"户籍人口信息_{y}1231.csv", "gb18030", "registry"),
            "marriage": CsvOut(d / f"婚姻登记信息_{y}.csv", "utf-8-sig", "marriage"),
            "death": CsvOut(d / f"死亡火化信息_{y}.csv", "utf-8", "death"),
            "payroll": CsvOut(d / f"财政供养人员工资_{y}.csv", "utf-8", "payroll"),
            "company": CsvOut(d / "企业基本信息.csv", "utf-8", "company"),
            "shareholder": CsvOut(d / "企业股东信息.csv", "utf-8", "shareholder"),
            "house": CsvOut(d / "不动产车辆登记_不动产.csv", "utf-8", "property"),
            "vehicle": CsvOut(
                d / "不动产车辆登记_车辆.csv", "utf-8", "property", order=(1, 0, 2, 3, 4, 5, 6)
            ),
            "project": CsvOut(d / "村级工程项目.csv", "utf-8", "project"),
            "project_payment": CsvOut(d / "村级工程付款.csv", "utf-8", "project_payment"),
            "lease": CsvOut(d / "集体资产合同.csv", "gbk", "lease"),
            "rent": CsvOut(d / "集体资产租金收缴.csv", "gbk", "rent"),
            "site_wage": CsvOut(d / f"农民工工资发放_{y}.csv", "utf-8", "site_wage"),
        }
        swapped = (0, 1, 2, 3, 4, 5, 6, 8, 7, 9, 10, 12, 11)  # amount/date and clerk/approver swapped
        for m in range(1, 13):
            order = swapped if m in (4, 9) else None
            self.out[f"subsidy{m}"] = CsvOut(d / f"民生补助发放明细_{y}{m:02d}.csv", "gbk", "subsidy", order)
        self.subsidy = [self.out["subsidy1"]] + [self.out[f"subsidy{m}"] for m in range(1, 13)]
        self.truth = Truth(d / "truth.jsonl")

    def close(self) -> None:
        from qingfeng.synth.writers import write_cadre_workbook

        for f in self.out.values():
            f.close()
        self.truth.close()
        write_cadre_workbook(
            self.dir / f"村社干部名册_{self.year}.xlsx", self.year, self.cadres, self.relatives
        )

    # ---------------------------------------------------------------- helpers
    def day(self, month: int, d: int = 10) -> dt.date:
        return dt.date(self.year, month, d)

    def card(self, p: Person, programme: str) -> str:
        """The person's own card for a programme, derived from the ID (x31 is a bijection mod 10^15):
        repeated ``pay`` calls land on one account without remembering it."""
        return f"622{N.PROGRAMMES.index(programme)}{int(p.pid[2:17]) * 31 % 10**15:015d}"

    def ri(self, a: int, b: int) -> int:
        return a + int(self.r() * (b - a + 1))

    def account(self) -> str:
        self._acct += 1
        return "6217" + f"{(self._acct * 7919 + 104729) % 10**15:015d}"

    def household(self, t: int, members: list[Member], village: str | None = None, **kw) -> list[Person]:
        village = village or self.rng.choice(self.villages_of[t])
        return self.registry.create(t, N.TOWNS[t], village, members, **kw)

    def write_household(self, people: list[Person]) -> None:
        self.registry.write(people)
        if self.written is not None:
            self.written.update((p.pid, p) for p in people)

    def die(self, p: Person, on: dt.date, *, registry: bool = True, record: dt.date | None = None) -> None:
        """A death: registry 死亡 on ``on`` and/or a death record (possibly dated differently)."""
        if registry:
            p.status, p.status_date = "死亡", on
        rec = record if record is not None else on
        if record is not None or not registry or self.rng.random() < 0.9:
            rng = self.rng
            shown = p.pid if rng.random() < 0.9 else (to_legacy15(p.pid) or p.pid)
            self.out["death"].write(
                [
                    p.name,
                    shown,
                    fmt_date(rec, rng.choice((0, 1, 3, 2))),
                    fmt_date(rec + dt.timedelta(days=rng.randint(1, 4)), rng.choice((0, 1))),
                    N.FUNERAL_HOMES[0],
                    "殡葬管理系统" if rng.random() < 0.7 else "卫健死亡医学证明",
                ]
            )

    def marry(self, husband: Person, wife: Person, on: dt.date, business: str = "结婚登记") -> None:
        self.out["marriage"].write(
            [iso(on), business, husband.name, husband.pid, wife.name, wife.pid, "萧山区民政局婚姻登记处"]
        )

    def pay(
        self,
        p: Person,
        programme: str,
        on: dt.date,
        amount: float,
        *,
        suffix: str = "",
        account: str | None = None,
        holder: str | None = None,
        id_mode: str = "",
        name: str | None = None,
        batch_month: int | None = None,
    ) -> tuple[str, int]:
        """One subsidy row in the month file of ``on``; ``id_mode`` plants a resolution quirk."""
        rng, r = self.rng, self.rng.random
        t = N.TOWN_INDEX[p.town]
        shown = p.pid
        if id_mode in ("blank", "traditional"):
            shown = ""
        elif id_mode == "typo":
            shown = typo(p.pid, rng)
        elif id_mode == "transposition":
            shown = transpose(p.pid, rng) or typo(p.pid, rng)
        elif id_mode == "legacy15":
            shown = to_legacy15(p.pid) or p.pid
        elif id_mode == "legacy15_typo":
            shown = legacy15_typo(self.ids, p.pid, rng) or self.ids.checksum_valid_typo(p.pid, rng)
        elif id_mode == "checksum_valid_typo":
            shown = self.ids.checksum_valid_typo(p.pid, rng)
        elif shown[-1] == "X" and r() < 0.3:
            shown = shown[:-1] + "x"
        bm = batch_month or on.month
        clerks = self.clerks[t]
        out = self.subsidy[on.month]
        town, village = spelled_division(p.town, p.village, f"{p.pid}{on}")
        line = out.raw(
            [
                f"{self.year}{bm:02d}-{t:02d}{suffix}",
                programme,
                town,
                village,
                p.hh,
                name or p.name,
                shown,
                money_field(amount, amount >= 1000 and r() < 0.3),
                fmt_date(on, DATE_STYLES[int(r() * 7)]),
                spelled_account(account or self.card(p, programme), f"{p.pid}{on}"),
                holder or p.name,
                clerks[int(r() * 3)],
                clerks[3],
            ]
        )
        return out.name, line

    def monthly(
        self, p: Person, programme: str, amount: float, months: range | list[int], account: str | None = None
    ) -> None:
        """Regular payments on the 10th (the hot path of ``pay``, without resolution quirks)."""
        account = account or self.account()
        r = self.r
        t = N.TOWN_INDEX[p.town]
        clerks = self.clerks[t]
        shown = p.pid if p.pid[-1] != "X" or r() < 0.7 else p.pid[:-1] + "x"
        plain = f"{amount:.2f}"
        grouped = f'"{amount:,.2f}"' if amount >= 1000 else plain
        texts, y = self._tenth_texts, self.year
        for m in months:
            town, village = spelled_division(p.town, p.village, f"{p.pid}{m}")
            self.subsidy[m].raw(
                [
                    f"{y}{m:02d}-{t:02d}", programme, town, village, p.hh, p.name, shown,
                    grouped if r() < 0.3 else plain, texts[m][DATE_STYLES[int(r() * 7)]],
                    spelled_account(account, f"{p.pid}{m}"), p.name, clerks[int(r() * 3)], clerks[3],
                ]
            )  # fmt: skip

    def payroll(
        self,
        p: Person,
        employer: int,
        category: str,
        months: range | list[int],
        gross: float = 0,
        *,
        coded: bool = True,
    ) -> None:
        """Salary rows of one employer; ``coded=False``: a unit whose export has no 单位代码 at all
        (and any unit leaves it blank on about 2% of rows)."""
        t = employer // 100
        code = f"11330109{t:02d}{employer % 100:02d}"
        emp = (
            N.TOWNS[t].replace("街道", "街道办事处")
            if employer % 100 == 0
            else N.TOWNS[t] + N.EMPLOYER_KINDS[employer % 100 % 5]
        )
        gross = gross or round(self.rng.uniform(6000, 12000))
        out = self.out["payroll"]
        for m in months:
            shown = code if coded and zlib.crc32(f"{code}|{p.pid}|{m}".encode()) % 100 >= 2 else ""
            out.raw(
                [
                    f"{self.year}{m:02d}",
                    shown,
                    emp,
                    category,
                    p.pid,
                    p.name,
                    money(gross),
                    money(gross * 0.88),
                ]
            )

    def own(self, p: Person, kind: str, reg: dt.date, dereg: dt.date | None = None) -> None:
        rng = self.rng
        if kind == "车辆":
            self.out["vehicle"].write(
                [
                    p.pid,
                    p.name,
                    kind,
                    iso(reg),
                    iso(dereg),
                    rng.choice(("1.5", "1.6", "2.0")),
                    money(rng.randint(8, 30) * 10000),
                ]
            )
        else:
            area = rng.randint(60, 160) if kind == "住宅" else rng.randint(40, 400)
            self.out["house"].write(
                [
                    p.pid,
                    p.name,
                    kind,
                    iso(reg),
                    iso(dereg),
                    f"{area}.0",
                    money(area * rng.randint(15, 30) * 1000),
                ]
            )

    def company(
        self,
        t: int,
        rep: Person,
        holders: list[Person] | None = None,
        status: str = "存续",
        kind: str | None = None,
    ) -> Company:
        rng = self.rng
        code = credit_code(rng, self._codes)
        name = (
            ("杭州" if rng.random() < 0.5 else "萧山")
            + rng.choice(N.COMPANY_WORDS)
            + rng.choice(N.COMPANY_WORDS)
            + (kind or rng.choice(N.COMPANY_KINDS))
        )
        holders = holders if holders is not None else []
        shares = [(rep, 100.0 if not holders else 60.0)] + [
            (h, round(40.0 / len(holders), 2)) for h in holders
        ]
        comp = Company(code, name, rep, shares, status, N.TOWNS[t])
        self.out["company"].write(
            [
                code,
                name,
                rep.name,
                rep.pid,
                iso(dt.date(rng.randint(2005, 2020), rng.randint(1, 12), 3)),
                status,
                "萧山区" + N.TOWNS[t],
            ]
        )
        for h, pct in shares:
            self.out["shareholder"].write([code, h.name, "居民身份证", h.pid, f"{pct:.2f}"])
        self.companies.append(comp)
        return comp

    def project(
        self,
        t: int,
        village: str,
        winner: Company,
        amount: float,
        method: str,
        bidders: int,
        approval: dt.date,
        *,
        award: int = 10,
        sign: int = 22,
        start: int = 28,
        accept: int | None = 90,
        pays: list[tuple] | None = None,
        payee: tuple[str, str] | None = None,
    ) -> str:
        """A project with dates as day offsets from approval; ``pays`` = (day offset, share of amount)."""
        self._project_seq += 1
        no = f"XS{self.year}{self._project_seq:05d}"
        d = lambda off: approval + dt.timedelta(days=off)  # noqa: E731
        shown_town, shown_village = spelled_division(N.TOWNS[t], village, no)
        self.out["project"].write(
            [
                no,
                village + self.rng.choice(N.PROJECT_KINDS),
                shown_town,
                shown_village,
                "基础设施",
                iso(approval),
                method,
                iso(d(award)),
                iso(d(sign)),
                iso(d(start)),
                iso(d(accept)) if accept is not None else "",
                money(round(amount * 1.05)),
                money(amount),
                winner.name,
                winner.code,
                bidders,
            ]
        )
        if pays is None:
            pays = [(sign + 20, 0.3), (sign + 50, 0.4)] + (
                [(accept + 15, 0.27)] if accept is not None else []
            )
        name, acct = payee or (winner.name, winner.account)
        for off, share, *other in pays:  # (day offset, share) or (day offset, share, payee, account)
            to = other if other else (name, acct)
            self.out["project_payment"].write(
                [no, iso(d(off)), money(round(amount * share, 2)), to[0], to[1]]
            )
        return no

    def lease(
        self,
        t: int,
        village: str,
        asset: str,
        area: float,
        rent: float,
        lessee: tuple[str, str],
        method: str,
        start: dt.date,
        years: int,
        *,
        platform: bool | None = None,
        receivables: list[tuple[dt.date, float, dt.date | None]] | None = None,
    ) -> str:
        """A collective-asset contract; receivables default to quarterly 2023 dues paid in full."""
        rng = self.rng
        self._lease_seq += 1
        no = f"ZC-{t:02d}-{self._lease_seq:05d}"
        unit = "亩" if asset in ("耕地", "林地", "鱼塘") else "平方米"
        end = dt.date(start.year + years, start.month, 1) - dt.timedelta(days=1)
        platform = method == "公开竞价" if platform is None else platform
        prev = f"ZC-{t:02d}-{rng.randint(1, 99999):05d}-原" if method == "协议续租" else ""
        shown_town, shown_village = spelled_division(N.TOWNS[t], village, no)
        self.out["lease"].write(
            [
                no,
                shown_town,
                shown_village,
                f"{village}{asset}{self._lease_seq}号",
                asset,
                f"{area:.1f}",
                unit,
                lessee[0],
                lessee[1],
                method,
                f"HZNC{rng.randint(10**7, 10**8 - 1)}" if platform else "",
                iso(start),
                iso(end),
                money(rent, rng.random() < 0.3),
                prev,
            ]
        )
        if receivables is None:
            receivables = []
            for m in (1, 4, 7, 10):
                due = dt.date(self.year, m, 15)
                if start <= due <= end:
                    receivables.append((due, rent / 4, due + dt.timedelta(days=rng.randint(2, 14))))
        for due, amt, paid in receivables:
            self.out["rent"].write(
                [no, iso(due), money(round(rent / 4, 2)), iso(paid), money(round(amt, 2)) if paid else ""]
            )
        return no

    def wage(
        self, project: str, contractor: Company, p: Person, month: int, gross: float, net: float, account: str
    ) -> None:
        self.out["site_wage"].write(
            [
                project,
                contractor.name,
                f"{self.year}{month:02d}",
                p.pid,
                p.name,
                money(gross),
                money(net),
                iso(self.day(month, 25)),
                spelled_account(account, f"{p.pid}{month}"),
            ]
        )

    def cadre(
        self,
        p: Person,
        post: str,
        start: dt.date,
        end: dt.date | None = None,
        town: str | None = None,
        village: str | None = None,
    ) -> None:
        to_dt = lambda d: dt.datetime(d.year, d.month, d.day) if d else None  # noqa: E731
        shown = spelled_division(town or p.town, village or p.village, f"{p.pid}{post}{start}")
        self.cadres.append((p.pid, p.name, *shown, post, to_dt(start), to_dt(end)))

    def declare(self, cadre: Person, rel: Person, relation: str) -> None:
        self.relatives.append((cadre.pid, cadre.name, rel.name, rel.pid, relation))

    def take(self, t: int) -> Person:
        """A clean adult (no payments, payroll, cadre ties, deaths) for firms, leases and sites."""
        pool = self.pool[t]
        return pool.pop() if pool else self._fresh(t)

    def _fresh(self, t: int) -> Person:
        people = self.household(t, [("户主", self.rng.randint(1965, 1995), self.rng.random() < 0.7)])
        self.write_household(people)
        return people[0]
