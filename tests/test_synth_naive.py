"""An independent, naive reading of rules.md run on a generated district: plain Python over the
exported files (not the generator's internals). The truth file must equal what it finds."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
from stdnum.cn import ric

ENC = {
    "户籍人口信息": "gb18030",
    "婚姻登记信息": "utf-8-sig",
    "民生补助发放明细": "gbk",
    "集体资产合同": "gbk",
    "集体资产租金收缴": "gbk",
}
MEANS = {"最低生活保障金", "特困人员救助供养金", "临时救助金"}
DISCRETIONARY = MEANS | {"农村危房改造补助"}
CAPS = {
    "特困人员救助供养金": 2000,
    "临时救助金": 10000,
    "高龄津贴": 500,
    "困难残疾人生活补贴": 600,
    "重度残疾人护理补贴": 600,
    "农村危房改造补助": 40000,
}
LIMIT = 100000


def rows(folder: Path, prefix: str) -> list[dict]:
    out = []
    for path in sorted(folder.glob(prefix + "*.csv")):
        with path.open(encoding=ENC.get(prefix, "utf-8"), newline="") as fh:
            for line, row in enumerate(csv.DictReader(fh), start=2):
                row["_file"], row["_line"] = path.name, line
                out.append(row)
    return out


def date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if not value:
        return None
    m = re.fullmatch(r"(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?", value) or re.fullmatch(
        r"(\d{4})(\d{2})(\d{2})", value
    )
    return dt.date(int(m[1]), int(m[2]), int(m[3]))


def money(value: str) -> float:
    return float(value.replace(",", "")) if value else 0.0


def norm_id(value: str) -> str | None:
    value = (value or "").strip().upper()
    if len(value) == 15 and value.isdigit():
        value = value[:6] + "19" + value[6:] + "0"
        value = value[:17] + ric.calc_check_digit(value)
    if len(value) == 18 and value[:17].isdigit() and ric.calc_check_digit(value) == value[17]:
        try:
            dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        except ValueError:
            return None
        return value
    return None


def account(value: str) -> str:
    """A bank account as typed: Excel's leading ', spaces, hyphens and full-width digits dropped."""
    value = value.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return re.sub(r"[\s'\-]", "", value)


def month(d: dt.date) -> str:
    return f"{d.year}-{d.month:02d}"


class Naive:
    def __init__(self, folder: Path, as_of: dt.date) -> None:
        self.f, self.as_of = folder, as_of
        self.people = {norm_id(r["公民身份号码"]): r for r in rows(folder, "户籍人口信息")}
        self.by_hh_name = {(r["户号"], r["姓名"]): pid for pid, r in self.people.items()}
        self.members = defaultdict(list)
        for pid, r in self.people.items():
            self.members[r["户号"]].append(pid)
        self.death: dict[str, dt.date] = {}
        for pid, r in self.people.items():
            if r["人员状态"] == "死亡":
                self.death[pid] = date(r["变动日期"])
        self.named = {pid: r["姓名"] for pid, r in self.people.items()}
        for r in rows(folder, "死亡火化信息"):
            pid = norm_id(r["身份证号"])
            self.death[pid] = min(self.death.get(pid, dt.date.max), date(r["死亡日期"]))
            self.named.setdefault(pid, r["姓名"])
        self.pay = rows(folder, "民生补助发放明细")
        from opencc import OpenCC

        t2s = OpenCC("t2s")
        for r in self.pay:  # an ID is a person only when the registry or a death record knows it
            pid, name = norm_id(r["身份证号"]), t2s.convert(r["姓名"])
            if pid not in self.named:
                pid = self.by_hh_name.get((r["户号"], name)) or self._repair(r["身份证号"], name)
            r["pid"] = pid
            r["date"], r["amount"] = date(r["发放日期"]), money(r["发放金额(元)"])
        self.payroll = rows(folder, "财政供养人员工资")
        self.wages = rows(folder, "农民工工资发放")
        self.projects = {r["项目编号"]: r for r in rows(folder, "村级工程项目")}
        self.ppay = defaultdict(list)
        for r in rows(folder, "村级工程付款"):
            self.ppay[r["项目编号"]].append(r)
        self.leases = rows(folder, "集体资产合同")
        self.companies = {r["统一社会信用代码"]: r for r in rows(folder, "企业基本信息")}
        self.parties = defaultdict(set)  # credit code -> person ids (legal rep and shareholders)
        for r in self.companies.values():
            self.parties[r["统一社会信用代码"]].add(norm_id(r["法定代表人证件号码"]))
        for r in rows(folder, "企业股东信息"):
            self.parties[r["统一社会信用代码"]].add(norm_id(r["股东证件号码"]))
        self._cadre_sheets()

    def _repair(self, shown: str, name: str) -> str | None:
        """The one known person of this name whose ID body is one digit off the shown one."""
        fits = {
            pid
            for pid, known in self.named.items()
            if known == name
            and len(shown) == 18
            and sum(a != b for a, b in zip(shown[:17], pid[:17], strict=True)) == 1
        }
        return fits.pop() if len(fits) == 1 else None

    def _cadre_sheets(self) -> None:
        from openpyxl import load_workbook

        wb = load_workbook(next(self.f.glob("村社干部名册_*.xlsx")), read_only=True)

        def sheet(name: str) -> list[dict]:
            header, *body = wb[name].iter_rows(min_row=2, values_only=True)
            return [dict(zip(header, row, strict=False)) for row in body]

        self.cadres = sheet("干部名册")
        self.declared = sheet("亲属报备")

    # ------------------------------------------------------------ kinship
    def kin(self, steps: int = 2) -> dict[str, dict[str, int]]:
        """cadre id -> {kin id: steps} per the catalogue's graph."""
        adj = defaultdict(set)

        def edge(a, b):
            if a and b:
                adj[a].add(b)
                adj[b].add(a)

        for pids in self.members.values():
            rel = defaultdict(list)
            for pid in pids:
                rel[self.people[pid]["与户主关系"]].append(pid)
            head = rel["户主"][0] if rel["户主"] else None
            kids = rel["子"] + rel["女"]
            for s in rel["配偶"]:
                edge(head, s)
                for k in kids:
                    edge(s, k)
            for k in kids:
                edge(head, k)
                for k2 in kids:
                    if k != k2:
                        edge(k, k2)
            for p in rel["父亲"] + rel["母亲"]:
                edge(p, head)
        marriages = sorted(rows(self.f, "婚姻登记信息"), key=lambda r: date(r["登记日期"]))
        pairs = {}
        for r in marriages:
            pairs[(norm_id(r["男方身份证号"]), norm_id(r["女方身份证号"]))] = r["业务类型"]
        for (a, b), kind in pairs.items():
            if kind == "结婚登记":
                edge(a, b)
        for r in self.declared:
            edge(norm_id(r["干部身份证号"]), norm_id(r["亲属身份证号"] or ""))
        out = {}
        for c in {norm_id(r["身份证号"]) for r in self.cadres}:
            seen, frontier = {c: 0}, [c]
            for k in range(1, steps + 1):
                nxt = []
                for p in frontier:
                    for q in adj[p]:
                        if q not in seen:
                            seen[q] = k
                            nxt.append(q)
                frontier = nxt
            out[c] = seen
        return out

    def cadres_in_office(self, town: str, on: dt.date):
        for r in self.cadres:
            start, end = date(r["任职开始日期"]), date(r["任职结束日期"])
            if r["镇街"] == town and start <= on and (end is None or end >= on):
                yield norm_id(r["身份证号"])

    def kin_cadres(self, pid: str, town: str, on: dt.date, kin) -> set[str]:
        return {c for c in self.cadres_in_office(town, on) if pid in kin.get(c, {})}

    # ------------------------------------------------------------ rules
    def detect(self) -> dict[str, set]:
        found: dict[str, set] = defaultdict(set)
        kin = self.kin()
        in_service = defaultdict(set)  # person -> {YYYY-MM}
        employers = defaultdict(set)
        for r in self.payroll:
            m = f"{r['发放年月'][:4]}-{r['发放年月'][4:]}"
            pid = norm_id(r["身份证号"])
            if r["人员类别"] in ("在编", "编外"):
                in_service[pid].add(m)
                employers[(pid, m)].add(r["单位代码"] or r["单位名称"])
            dd = self.death.get(pid)
            if dd and m > month(dd):
                found["P01"].add((("person", pid),))
        holdings = defaultdict(list)
        for r in rows(self.f, "不动产车辆登记"):
            holdings[norm_id(r["权利人身份证号"])].append(
                (r["资产类别"], date(r["登记日期"]), date(r["注销日期"]))
            )
        active_roles = defaultdict(set)
        for code, r in self.companies.items():
            if r["登记状态"] in ("存续", "在业"):
                for pid in self.parties[code]:
                    active_roles[pid].add(code)
        batches = defaultdict(set)
        accounts = defaultdict(set)
        for r in self.pay:
            pid, prog, d = r["pid"], r["补助项目"], r["date"]
            dd = self.death.get(pid)
            if dd and (d - dd).days > 30:
                found["S01"].add((("person", pid), ("programme", prog)))
            if r["开户人姓名"] != r["姓名"]:
                accounts[account(r["银行账号"])].add(r["户号"])
            if pid is None:  # unresolved: a review item, never a clue
                continue
            hh = self.members[self.people[pid]["户号"]] if pid in self.people else []
            if prog in MEANS and any(month(d) in in_service[m] for m in hh):
                found["S02"].add((("person", pid), ("programme", prog)))
            if prog in DISCRETIONARY:
                for c in self.kin_cadres(pid, r["镇街"], d, kin):
                    found["S03"].add((("person", pid), ("cadre", c), ("programme", prog)))
            batches[(pid, prog, month(d))].add(r["发放批次"])
            if prog in MEANS:
                for m in hh:
                    owned = [k for k, reg, dereg in holdings[m] if reg <= d and (dereg is None or dereg > d)]
                    if any(k != "住宅" for k in owned) or owned.count("住宅") > 1 or active_roles[m]:
                        found["S05"].add((("person", pid), ("programme", prog)))
            cap = CAPS.get(prog)
            if prog == "最低生活保障金" and hh:  # no household, no per-member cap
                cap = 1250 * sum(
                    1
                    for m in hh
                    if self.people[m]["人员状态"] in ("正常", "死亡")
                    and not (self.death.get(m) and self.death[m] <= d)
                )
            if cap is not None and r["amount"] > cap:
                found["S07"].add((("person", pid), ("programme", prog), ("month", month(d))))
        for (pid, prog, m), b in batches.items():
            if len(b) >= 2:
                found["S04"].add((("person", pid), ("programme", prog), ("month", m)))
        for acct, hhs in accounts.items():
            if len(hhs) >= 3:
                found["S06"].add((("account", acct),))
        self._engineering(found, kin)
        self._assets(found, kin)
        self._wages(found, in_service, employers)
        return found

    def _engineering(self, found, kin) -> None:
        by_vc = defaultdict(list)
        for no, p in self.projects.items():
            amount = money(p["合同金额(元)"])
            approval, award, sign, start, acc = (
                date(p[k]) for k in ("立项日期", "定标日期", "合同签订日期", "开工日期", "竣工验收日期")
            )
            pays = [(date(r["支付日期"]), money(r["支付金额(元)"]), r["收款单位"]) for r in self.ppay[no]]
            before = sum(a for d, a, _ in pays if acc is None or d < acc)
            if (
                sign < award
                or award < approval
                or start < sign
                or any(d < sign for d, _, _ in pays)
                or before > 0.8 * amount + 1e-6
            ):
                found["E02"].add((("project", no),))
            if sum(a for _, a, _ in pays) > 1.1 * amount + 1e-6:
                found["E03"].add((("project", no),))
            code = p["中标单位统一社会信用代码"]
            if any(self.kin_cadres(pid, p["镇街"], sign, kin) for pid in self.parties[code] if pid):
                found["E04"].add((("project", no), ("company", code)))
            method, bidders = p["招标方式"], int(p["投标单位数"])
            if method in ("公开招标", "邀请招标", "竞争性比选") and bidders < 3:
                found["E05"].add((("project", no),))
            if method in ("村级自行发包", "直接委托") and amount >= LIMIT:
                found["E06"].add((("project", no),))
            if any(payee != p["中标单位"] for _, _, payee in pays):
                found["E07"].add((("project", no),))
            if amount < LIMIT:
                by_vc[(p["村社"], code)].append((sign, amount))
        for (village, code), cs in by_vc.items():
            cs.sort()
            for i, (first, _) in enumerate(cs):
                if (
                    sum(a for d, a in cs[i:] if (d - first).days <= 90) >= LIMIT
                    and sum(1 for d, _ in cs[i:] if (d - first).days <= 90) >= 2
                ):
                    found["E01"].add((("village", village), ("company", code)))

    def _assets(self, found, kin) -> None:
        leases = self.leases
        for r in leases:
            r["start"], r["end"], r["rent"] = (
                date(r["合同起始日期"]),
                date(r["合同终止日期"]),
                money(r["年租金(元)"]),
            )
            r["unit"] = r["rent"] / float(r["面积"])
        for r in leases:
            peers = [
                o
                for o in leases
                if o is not r
                and o["资产类型"] == r["资产类型"]
                and abs((o["start"] - r["start"]).days) <= 5 * 365.25
            ]
            town = [o for o in peers if o["镇街"] == r["镇街"]]
            group = town if len(town) >= 5 else peers
            if group:
                units = sorted(o["unit"] for o in group)
                n = len(units)
                median = units[n // 2] if n % 2 else (units[n // 2 - 1] + units[n // 2]) / 2
                if r["unit"] < 0.5 * median:
                    found["A01"].add((("contract", r["合同编号"]),))
            years = (r["end"] + dt.timedelta(days=1) - r["start"]).days / 365.25
            limit = 20 if r["资产类型"] in ("耕地", "林地", "鱼塘") else 10
            if years > limit + 0.01:
                found["A03"].add((("contract", r["合同编号"]),))
            if r["交易方式"] in ("协议续租", "直接发包") and r["rent"] >= 50000 and not r["交易平台编号"]:
                found["A04"].add((("contract", r["合同编号"]),))
            lessee = norm_id(r["承租方证件号码"])
            parties = {lessee} if lessee else self.parties.get(r["承租方证件号码"], set())
            if any(self.kin_cadres(pid, r["镇街"], r["start"], kin) for pid in parties if pid):
                found["A05"].add((("contract", r["合同编号"]),))
        for r in rows(self.f, "集体资产租金收缴"):
            due, paid = date(r["应收日期"]), money(r["实收金额(元)"])
            if (self.as_of - due).days > 60 and paid < money(r["应收金额(元)"]):
                found["A02"].add((("contract", r["合同编号"]),))

    def _wages(self, found, in_service, employers) -> None:
        for (pid, _m), codes in employers.items():
            if len(codes) >= 2:
                found["P02"].add((("person", pid),))
        short = defaultdict(set)
        sites = defaultdict(set)
        acct = defaultdict(set)
        for r in self.wages:
            pid, m = norm_id(r["身份证号"]), f"{r['发放月份'][:4]}-{r['发放月份'][4:]}"
            dd = self.death.get(pid)
            if dd and m > month(dd):
                found["P01"].add((("person", pid),))
            if money(r["实发工资"]) < 0.9 * money(r["应发工资"]):
                short[(r["项目编号"], m)].add(pid)
            sites[(pid, m)].add(r["项目编号"])
            if m in in_service[pid]:
                found["P04"].add((("person", pid),))
            acct[(account(r["收款账号"]), m)].add(pid)
        for (pid, _), projects in sites.items():
            if len(projects) >= 2:
                found["P04"].add((("person", pid),))
        for (project, m), workers in short.items():
            y, mo = int(m[:4]), int(m[5:])
            nxt = f"{y + mo // 12}-{mo % 12 + 1:02d}"
            if len(workers) >= 3 and len(short.get((project, nxt), ())) >= 3:
                found["P03"].add((("project", project),))
        for (a, _), workers in acct.items():
            if len(workers) >= 5:
                found["P05"].add((("account", a),))


def truth_sets(folder: Path):
    clues, traps = defaultdict(set), defaultdict(set)
    for line in (folder / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if rec["type"] in ("clue", "trap"):
            key = tuple(sorted(rec["keys"].items()))
            (clues if rec["type"] == "clue" else traps)[rec["rule"]].add(key)
    return clues, traps


@pytest.fixture(scope="module")
def district(tmp_path_factory) -> Path:
    from qingfeng.synth.generate import synthesize

    out = tmp_path_factory.mktemp("naive")
    synthesize(out, 400, 7)
    return out


def test_truth_equals_naive_detection(district: Path) -> None:
    found = Naive(district, dt.date(2024, 1, 31)).detect()
    clues, traps = truth_sets(district)
    problems = []
    for rule in sorted(set(clues) | set(found)):
        got = {tuple(sorted(k)) for k in found[rule]}
        missed, extra = clues[rule] - got, got - clues[rule]
        if missed or extra:
            problems.append(f"{rule}: missed {sorted(missed)[:3]} extra {sorted(extra)[:3]}")
        assert not (traps[rule] & got), f"{rule} trap detected: {traps[rule] & got}"
    assert not problems, "\n".join(problems)
