"""The synthetic district generator: exact formats and quirks, determinism, truth, streaming."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from stdnum.cn import ric, uscc

from qingfeng.synth.generate import synthesize

ROOT = Path(__file__).resolve().parents[1]
RULES = (
    [f"S0{i}" for i in range(1, 8)]
    + [f"E0{i}" for i in range(1, 8)]
    + [f"A0{i}" for i in range(1, 6)]
    + [f"P0{i}" for i in range(1, 6)]
)
KEYS = {
    "S01": {"person", "programme"},
    "S02": {"person", "programme"},
    "S03": {"person", "cadre", "programme"},
    "S04": {"person", "programme", "month"},
    "S05": {"person", "programme"},
    "S06": {"account"},
    "S07": {"person", "programme", "month"},
    "E01": {"village", "company"},
    "E02": {"project"},
    "E03": {"project"},
    "E04": {"project", "company"},
    "E05": {"project"},
    "E06": {"project"},
    "E07": {"project"},
    "A01": {"contract"},
    "A02": {"contract"},
    "A03": {"contract"},
    "A04": {"contract"},
    "A05": {"contract"},
    "P01": {"person"},
    "P02": {"person"},
    "P03": {"project"},
    "P04": {"person"},
    "P05": {"account"},
}


@pytest.fixture(scope="module")
def district(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("district")
    synthesize(out, 300, 11)
    return out


def feed_files() -> list[dict]:
    specs = []
    for path in sorted((ROOT / "feeds").glob("*.yml")):
        specs += yaml.safe_load(path.read_text(encoding="utf-8"))["files"]
    return specs


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def read_csv(path: Path, encoding: str) -> list[list[str]]:
    with path.open(encoding=encoding, errors="strict", newline="") as fh:
        return list(csv.reader(fh))


def truth(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "truth.jsonl").read_text(encoding="utf-8").splitlines()]


def test_every_feed_file_kind_is_written_with_its_encoding_and_exact_header(district: Path) -> None:
    from openpyxl import load_workbook

    names = [p.name for p in district.iterdir()]
    for spec in feed_files():
        matching = [n for n in names if re.fullmatch(spec["pattern"], n)]
        assert matching, f"no file for {spec['table']}"
        for name in matching:
            if spec.get("format") == "xlsx":
                wb = load_workbook(district / name)
                ws = wb[spec["sheet"]]
                title, header = (list(r) for r in ws.iter_rows(min_row=1, max_row=2, values_only=True))
                assert title[0] and all(v is None for v in title[1:]), "title row first"
                assert set(header) == set(spec["columns"]) and ws.max_row > 2
                continue
            data = district.joinpath(name).read_bytes()
            if spec["encoding"] == "utf-8-sig":
                assert data.startswith(b"\xef\xbb\xbf")
            else:
                assert not data.startswith(b"\xef\xbb\xbf")
            lines = read_csv(district / name, spec["encoding"])
            titles, rows = lines[: spec.get("header_row", 1) - 1], lines[spec.get("header_row", 1) - 1 :]
            assert all(len(t) == 1 and t[0] for t in titles), f"{name}: a title line above the header"
            assert set(rows[0]) == set(spec["columns"]), name
            assert len(rows) > 1 and all(len(r) == len(rows[0]) for r in rows), name
    subsidy = sorted(n for n in names if n.startswith("民生补助发放明细_"))
    assert subsidy == [f"民生补助发放明细_2023{m:02d}.csv" for m in range(1, 13)]
    # the registry really needs GB18030-or-GBK decoding: it is not UTF-8
    with pytest.raises(UnicodeDecodeError):
        (district / "户籍人口信息_20231231.csv").read_text(encoding="utf-8")


def test_feed_keys_are_unique(district: Path) -> None:
    """The feeds' declared keys hold in the generated data (ingest gates on key uniqueness)."""
    from openpyxl import load_workbook

    for spec in feed_files():
        by_name = {col["name"]: zh for zh, col in spec["columns"].items()}
        key_cols = [by_name[k.removesuffix("_raw")] for k in spec["keys"]]
        if not key_cols:
            continue
        for path in district.iterdir():
            if not re.fullmatch(spec["pattern"], path.name):
                continue
            if spec.get("format") == "xlsx":
                header, *body = load_workbook(path)[spec["sheet"]].iter_rows(min_row=2, values_only=True)
                records = [dict(zip(header, r, strict=True)) for r in body]
            else:
                rows = read_csv(path, spec["encoding"])[spec.get("header_row", 1) - 1 :]
                records = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
            keys = Counter(tuple(r[c] for c in key_cols) for r in records)
            dupes = [k for k, n in keys.items() if n > 1]
            assert not dupes, f"{path.name}: duplicate {key_cols} {dupes[:3]}"


def test_quirks_are_present(district: Path) -> None:
    from openpyxl import load_workbook

    reg = read_csv(district / "户籍人口信息_20231231.csv", "gb18030")
    ids = [r[0] for r in reg[1:]]
    assert any(len(i) == 15 for i in ids), "legacy 15-digit IDs"
    pay_rows, headers = [], set()
    for m in range(1, 13):
        rows = read_csv(district / f"民生补助发放明细_2023{m:02d}.csv", "gbk")
        headers.add(tuple(rows[0]))
        pay_rows += [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert len(headers) > 1, "column order differs between files of one feed"
    pay_ids = [r["身份证号"] for r in pay_rows]
    assert "" in pay_ids
    assert any(i and len(i) == 18 and ric.calc_check_digit(i.upper()) != i[-1].upper() for i in pay_ids), (
        "mistyped IDs"
    )
    assert any(i.endswith("x") for i in pay_ids + ids), "lower-case x"
    assert any("-补" in r["发放批次"] for r in pay_rows)
    assert any("," in r["发放金额(元)"] for r in pay_rows), "thousands separators"
    raw = (district / "民生补助发放明细_202301.csv").read_bytes().decode("gbk")
    assert re.search(r'"\d{1,3}(,\d{3})+\.\d\d"', raw), "grouped amounts are quoted"
    forms = Counter(
        "iso"
        if re.fullmatch(r"\d{4}-\d\d-\d\d", v)
        else "slash"
        if "/" in v
        else "cn"
        if "年" in v
        else "compact"
        for v in (r["发放日期"] for r in pay_rows)
    )
    assert len(forms) == 4, forms
    deaths = [r[2] for r in read_csv(district / "死亡火化信息_2023.csv", "utf-8")[1:]]
    assert len({"-" in v for v in deaths}) == 2, "mixed date forms in one column"
    payees = read_csv(district / "村级工程付款.csv", "utf-8")[1:]
    assert all(re.fullmatch(r"3301[0-9A-Z]{10}|6217\d{15}", r[4]) for r in payees), "payee accounts"
    ws = load_workbook(district / "村社干部名册_2023.xlsx")["干部名册"]
    starts = [r[5] for r in ws.iter_rows(min_row=3, values_only=True)]
    assert all(isinstance(v, dt.datetime) for v in starts), "real Excel dates"


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    synthesize(a, 200, 5)
    synthesize(b, 200, 5)
    synthesize(c, 200, 6)
    assert digest(a) == digest(b)
    da, dc = digest(a), digest(c)
    assert da.keys() == dc.keys()
    assert da["户籍人口信息_20231231.csv"] != dc["户籍人口信息_20231231.csv"]
    assert da["truth.jsonl"] != dc["truth.jsonl"]


def test_truth_plants_every_rule_with_cases_and_traps(district: Path) -> None:
    recs = truth(district)
    clues = Counter(r["rule"] for r in recs if r["type"] == "clue")
    traps = Counter(r["rule"] for r in recs if r["type"] == "trap")
    for rule in RULES:
        assert clues[rule] >= 2 and traps[rule] >= 1, rule
    assert set(clues) == set(RULES)
    for r in recs:
        if r["type"] in ("clue", "trap"):
            assert set(r["keys"]) == KEYS[r["rule"]], r


def test_truth_keys_are_well_formed_and_exist_in_the_exports(district: Path) -> None:
    projects = {r[0] for r in read_csv(district / "村级工程项目.csv", "utf-8")[1:]}
    contracts = {r[0] for r in read_csv(district / "集体资产合同.csv", "gbk")[1:]}
    companies = {r[0] for r in read_csv(district / "企业基本信息.csv", "utf-8")[1:]}
    villages = {r[9] for r in read_csv(district / "户籍人口信息_20231231.csv", "gb18030")[1:]}
    accounts = set()
    for m in range(1, 13):
        rows = read_csv(district / f"民生补助发放明细_2023{m:02d}.csv", "gbk")
        accounts |= {dict(zip(rows[0], r, strict=True))["银行账号"] for r in rows[1:]}
    accounts |= {r[-1] for r in read_csv(district / "农民工工资发放_2023.csv", "utf-8")[1:]}
    for r in truth(district):
        keys = r.get("keys", {})
        for k in ("person", "cadre"):
            if k in keys:
                v = keys[k]
                assert len(v) == 18 and v == v.upper() and ric.calc_check_digit(v) == v[-1], v
                dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
        if "month" in keys:
            assert re.fullmatch(r"2023-(0[1-9]|1[0-2])", keys["month"])
        if "company" in keys:
            code = keys["company"]
            assert uscc.is_valid(code) and code in companies
            assert not (code[:17].isdigit() and ric.calc_check_digit(code) == code[17]), (
                "not also a resident ID"
            )
        assert keys.get("project", next(iter(projects))) in projects
        assert keys.get("contract", next(iter(contracts))) in contracts
        assert keys.get("village", next(iter(villages))) in villages
        assert keys.get("account", next(iter(accounts))) in accounts


def test_resolution_rows_point_at_the_planted_quirk(district: Path) -> None:
    registry = {norm(r[0]): r for r in read_csv(district / "户籍人口信息_20231231.csv", "gb18030")[1:]}
    deaths = {norm(r[1]) for r in read_csv(district / "死亡火化信息_2023.csv", "utf-8")[1:]}
    files: dict[str, list[list[str]]] = {}
    cases = Counter()
    for rec in truth(district):
        if rec["type"] not in ("resolution", "resolution_trap") or rec["table"] != "subsidy_payment":
            continue  # petitions: test_petitions_name_whom_the_truth_says
        rows = files.setdefault(rec["file"], read_csv(district / rec["file"], "gbk"))
        row = dict(zip(rows[0], rows[rec["line"] - 1], strict=True))
        cases[rec["case"]] += 1
        if rec["type"] == "resolution_trap":
            other, shown = registry[rec["must_not_be"]], norm(row["身份证号"])
            assert shown not in registry and shown not in deaths, "the row's ID is nobody's here"
            if rec["case"] == "newborn":  # the elder sister: same household, a name one character off
                assert other[5] == row["户号"] and shown[6:10] == "2023" and other[1] != row["姓名"]
                assert other[1][:-1] == row["姓名"][:-1]
            else:
                assert other[1] == row["姓名"] and other[5] != row["户号"], "same name, other household"
            continue
        pid, shown = rec["person_id"], row["身份证号"]
        assert ric.calc_check_digit(pid) == pid[-1]
        if rec["case"] == "death_record_only":  # deregistered: only the death record has the ID
            assert pid not in registry and pid in deaths and len(shown) == 18, (rec, row)
            continue
        assert _shows_case(rec["case"], shown, row["姓名"], pid, registry[pid][1]), (rec, row)
        assert registry[pid][5] == row["户号"]
    assert set(cases) == {
        "blank_id",
        "typo",
        "transposition",
        "legacy15",
        "legacy15_typo",
        "checksum_valid_typo",
        "traditional_name",
        "death_record_only",
        "homonym",
        "non_local",
        "newborn",
    }


def test_petitions_name_whom_the_truth_says(district: Path) -> None:
    """Every petition row has a truth line, and the row shows what the line says: the person's ID as
    registered, its 15-digit form or one digit off (check digit broken); or no ID, with the name and
    village of the registry person offered for review; a stranger, a village or a company."""
    registry = {norm(r[0]): r for r in read_csv(district / "户籍人口信息_20231231.csv", "gb18030")[1:]}
    companies = {r[1]: r[3] for r in read_csv(district / "企业基本信息.csv", "utf-8")[1:]}
    recs = truth(district)
    named = {
        v
        for r in recs
        if r["type"] in ("clue", "trap")
        for k, v in r["keys"].items()
        if k in ("person", "cadre")
    }
    clued = {r["keys"][k] for r in recs if r["type"] == "clue" for k in ("person", "cadre") if k in r["keys"]}
    files = {}
    for m in range(1, 13):
        name = f"信访举报登记_2023{m:02d}.csv"
        lines = read_csv(district / name, "gb18030")
        assert len(lines[0]) == 1 and len(lines) > 2, "a title line, the header, rows in every month"
        files[name] = [dict(zip(lines[1], r, strict=len(r) > 1)) for r in lines]
    petitions = [r for r in recs if r.get("table") == "petition"]
    assert len(petitions) == sum(len(rows) - 2 for rows in files.values()), "one truth line per petition"
    cases, subjects = Counter(), Counter()
    for rec in petitions:
        row = files[rec["file"]][rec["line"] - 1]
        cases[rec["case"]] += 1
        subjects[rec["subject"]] += 1
        pid = rec.get("person_id") or rec.get("review")
        if pid:  # a registry person, planted case or not
            assert registry[pid][1] == row["被反映人姓名"]
            assert (pid in clued) == (rec["subject"] == "planted_case")
            assert pid not in named or rec["subject"] == "planted_case"
        shown = row["被反映人身份证号"]
        if rec["case"] == "petition_id":
            assert shown.upper() == pid
        elif rec["case"] == "petition_legacy15":
            assert shown == pid[:6] + pid[8:17]
        elif rec["case"] == "petition_typo":
            assert len(shown) == 18 and sum(a != b for a, b in zip(shown, pid, strict=True)) == 1
            assert ric.calc_check_digit(shown) != shown[-1]
        else:
            assert shown == "" and rec["type"] == "resolution_trap" and rec["nobody"] is True
        if rec["case"] == "petition_not_in_registry" and rec["must_not_be"]:
            assert registry[rec["must_not_be"]][1] == row["被反映人姓名"], "a villager's name"
        if rec["case"] == "petition_village":
            assert row["被反映人姓名"] == "" and row["村社"]
        if rec["case"] == "petition_company":
            assert companies[row["被反映人姓名"]] == rec["must_not_be"], "its legal representative"
    assert set(cases) == {
        "petition_id", "petition_legacy15", "petition_typo", "petition_name_only",
        "petition_not_in_registry", "petition_village", "petition_company",
    }  # fmt: skip
    assert set(subjects) == {"planted_case", "innocent", "cadre", "not_in_registry", "village", "company"}
    anonymous = [r for rows in files.values() for r in rows[2:] if r["反映人"] == ""]
    assert anonymous and all(r["反映人联系电话"] == "" for r in anonymous)


def norm(shown: str) -> str:
    """The 18-digit form: a legacy 15-digit ID gets 19 inserted and its check digit computed."""
    pid = shown.upper()
    if len(pid) == 15:
        pid = pid[:6] + "19" + pid[6:] + "0"
        pid = pid[:17] + ric.calc_check_digit(pid)
    return pid


def _shows_case(case: str, shown: str, name: str, pid: str, registry_name: str) -> bool:
    differing = sum(a != b for a, b in zip(shown, pid, strict=False))
    if case == "legacy15_typo":  # one digit off in the 15, so a valid-looking 18 of nobody
        return len(shown) == 15 and sum(a != b for a, b in zip(shown, pid[:6] + pid[8:17], strict=True)) == 1
    if case == "checksum_valid_typo":
        return len(shown) == 18 and shown[-1] == ric.calc_check_digit(shown) and differing in (1, 2)
    if case == "blank_id":
        return shown == ""
    if case == "traditional_name":
        return shown == "" and name != registry_name and len(name) == len(registry_name)
    if case == "legacy15":
        return shown == pid[:6] + pid[8:17]
    if case == "typo":
        return len(shown) == 18 and differing == 1
    return case == "transposition" and len(shown) == 18 and sorted(shown) == sorted(pid) and differing == 2


def test_district_json_recommends_as_of(district: Path) -> None:
    meta = json.loads((district / "district.json").read_text(encoding="utf-8"))
    assert meta["households"] == 300 and meta["seed"] == 11 and meta["as_of"] == "2024-01-31"


def _footprint(out: Path, n: int) -> dict:
    """Generate in a fresh interpreter; report wall/CPU time and peak RSS (no tracing overhead)."""
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child of a big pytest process
    # would report the parent's peak.
    code = (
        "import json, re, sys, time; from pathlib import Path; import openpyxl;"
        "from qingfeng.synth.generate import synthesize;"
        "t = time.process_time(); s = synthesize(Path(sys.argv[1]), int(sys.argv[2]), 3);"
        "hwm = re.search(r'VmHWM:\\s+(\\d+)', Path('/proc/self/status').read_text()).group(1);"
        "print(json.dumps({'cpu': time.process_time() - t, 'wall': s['seconds'],"
        " 'rss_mb': int(hwm) / 1024, 'rows': sum(s['rows'].values())}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(out), str(n)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_streaming_memory_stays_bounded_and_timing(tmp_path: Path) -> None:
    small = _footprint(tmp_path / "small", 2000)
    big = _footprint(tmp_path / "big", 20000)
    print(
        f"\n20000 households: {big['rows']} rows, {big['wall']:.1f}s wall, {big['cpu']:.1f}s CPU "
        f"({20000 / big['cpu']:.0f} households per CPU second), peak RSS {big['rss_mb']:.0f} MB (2000: {small['rss_mb']:.0f} MB)"
    )
    assert big["rows"] > 8 * small["rows"]
    assert big["rss_mb"] < small["rss_mb"] + 30, "memory must not grow with the number of households"
    assert big["rss_mb"] < 200


def test_cli_writes_a_district_and_refuses_a_used_directory(tmp_path: Path) -> None:
    from qingfeng.cli import main

    out = tmp_path / "d"
    result = CliRunner().invoke(main, ["synth", "--households", "50", "--seed", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "suggested --as-of 2024-01-31" in result.output
    assert (out / "truth.jsonl").exists() and (out / "村社干部名册_2023.xlsx").exists()
    again = CliRunner().invoke(main, ["synth", "--households", "50", "--out", str(out)])
    assert again.exit_code != 0 and "not empty" in again.output


def test_checksum_valid_typos_are_never_anyones_id() -> None:
    """A planted typo that passes the check digit must be nobody's ID, now or later: otherwise the
    truth would call a correct link to that other person a wrong one."""
    import random

    from qingfeng.synth.ids import IdFactory, is_valid_id, legacy15_typo

    ids, rng, born = IdFactory(), random.Random(3), dt.date(1960, 5, 5)
    issued = [ids.issue(born, True) for _ in range(300)]  # crowd one birth date: seq typos collide
    assert all(ids.issued(p) for p in issued) and not ids.issued(ids.checksum_valid_typo(issued[0], rng))
    typos = [ids.checksum_valid_typo(p, rng) for p in issued[:100]]
    legacy = [legacy15_typo(ids, p, rng) for p in issued[100:150]]
    upgraded = [f"{t[:6]}19{t[6:]}" for t in legacy if t]
    upgraded = [u + ric.calc_check_digit(u + "0") for u in upgraded]
    assert all(is_valid_id(t) for t in typos) and len(upgraded) == 50
    assert not (set(typos) | set(upgraded)) & set(issued)
    later = [ids.issue(born, True) for _ in range(150)]
    assert not (set(typos) | set(upgraded)) & set(later)
