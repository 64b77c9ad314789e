"""Export writers: exact file names, Chinese headers, per-feed encodings, line numbers for the truth."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

HEADERS: dict[str, tuple[str, ...]] = {
    "registry": (
        "公民身份号码",
        "姓名",
        "性别",
        "出生日期",
        "民族",
        "户号",
        "与户主关系",
        "户籍地址",
        "所属镇街",
        "所属村社",
        "人员状态",
        "变动日期",
    ),
    "marriage": ("登记日期", "业务类型", "男方姓名", "男方身份证号", "女方姓名", "女方身份证号", "登记机关"),
    "death": ("姓名", "身份证号", "死亡日期", "火化日期", "殡仪馆", "信息来源"),
    "subsidy": (
        "发放批次",
        "补助项目",
        "镇街",
        "村社",
        "户号",
        "姓名",
        "身份证号",
        "发放金额(元)",
        "发放日期",
        "银行账号",
        "开户人姓名",
        "经办人",
        "审核人",
    ),
    "payroll": ("发放年月", "单位代码", "单位名称", "人员类别", "身份证号", "姓名", "应发合计", "实发合计"),
    "company": (
        "统一社会信用代码",
        "企业名称",
        "法定代表人",
        "法定代表人证件号码",
        "成立日期",
        "登记状态",
        "住所",
    ),
    "shareholder": ("统一社会信用代码", "股东名称", "股东证件类型", "股东证件号码", "出资比例(%)"),
    "property": (
        "权利人身份证号",
        "权利人姓名",
        "资产类别",
        "登记日期",
        "注销日期",
        "面积或排量",
        "评估价值(元)",
    ),
    "project": (
        "项目编号",
        "项目名称",
        "镇街",
        "村社",
        "项目类别",
        "立项日期",
        "招标方式",
        "定标日期",
        "合同签订日期",
        "开工日期",
        "竣工验收日期",
        "控制价(元)",
        "合同金额(元)",
        "中标单位",
        "中标单位统一社会信用代码",
        "投标单位数",
    ),
    "project_payment": ("项目编号", "支付日期", "支付金额(元)", "收款单位", "收款账号"),
    "lease": (
        "合同编号",
        "镇街",
        "村社",
        "资产名称",
        "资产类型",
        "面积",
        "面积单位",
        "承租方名称",
        "承租方证件号码",
        "交易方式",
        "交易平台编号",
        "合同起始日期",
        "合同终止日期",
        "年租金(元)",
        "原合同编号",
    ),
    "rent": ("合同编号", "应收日期", "应收金额(元)", "实收日期", "实收金额(元)"),
    "site_wage": (
        "项目编号",
        "施工单位",
        "发放月份",
        "身份证号",
        "姓名",
        "应发工资",
        "实发工资",
        "发放日期",
        "收款账号",
    ),
    "cadre": ("身份证号", "姓名", "镇街", "村社", "职务", "任职开始日期", "任职结束日期"),
    "cadre_relative": ("干部身份证号", "干部姓名", "亲属姓名", "亲属身份证号", "关系"),
    "petition": (
        "信访编号",
        "来源渠道",
        "登记日期",
        "反映人",
        "反映人联系电话",
        "被反映人姓名",
        "被反映人身份证号",
        "被反映人单位/村社",
        "镇街",
        "村社",
        "职务",
        "反映内容",
        "问题类别",
        "办理状态",
    ),
}


def iso(d: dt.date | None) -> str:
    return "" if d is None else f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def fmt_date(d: dt.date | None, style: int) -> str:
    """The four delivered forms: 2023-05-10, 2023/5/10, 20230510, 2023年5月10日."""
    if d is None:
        return ""
    if style == 0:
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    if style == 1:
        return f"{d.year}/{d.month}/{d.day}"
    if style == 2:
        return f"{d.year:04d}{d.month:02d}{d.day:02d}"
    return f"{d.year}年{d.month}月{d.day}日"


def money(value: float, grouped: bool = False) -> str:
    """Two decimals; with a thousands separator (the csv module quotes such a field)."""
    return f"{value:,.2f}" if grouped else f"{value:.2f}"


def money_field(value: float, grouped: bool = False) -> str:
    """As ``money`` but already quoted for ``CsvOut.raw``: "2,846.00"."""
    return f'"{value:,.2f}"' if grouped else f"{value:.2f}"


class CsvOut:
    """One export file. Rows come in canonical header order; ``order`` permutes the columns of
    this file (agencies reorder columns between deliveries). ``line`` is the physical line of the
    last row written (the header is line 1, or 2 below a ``title`` line)."""

    def __init__(
        self,
        path: Path,
        encoding: str,
        kind: str,
        order: tuple[int, ...] | None = None,
        *,
        title: str | None = None,
    ) -> None:
        self.path = path
        self.name = path.name
        self._fh = path.open("w", encoding=encoding, newline="")
        self._w = csv.writer(self._fh, lineterminator="\n")
        header = HEADERS[kind]
        self._order = order
        if title is not None:
            self._fh.write(title + "\n")
        self._w.writerow([header[i] for i in order] if order else header)
        self.header_line = self.line = 1 if title is None else 2

    @property
    def rows(self) -> int:
        return self.line - self.header_line

    def write(self, row: list[Any]) -> int:
        self._w.writerow([row[i] for i in self._order] if self._order else row)
        self.line += 1
        return self.line

    def raw(self, row: list[str]) -> int:
        """Fast path for rows whose fields never need quoting (money quoted by ``money``)."""
        self._fh.write(",".join([row[i] for i in self._order] if self._order else row) + "\n")
        self.line += 1
        return self.line

    def raw_many(self, rows: list[list[str]]) -> None:
        self._fh.write("".join(",".join(row) + "\n" for row in rows))
        self.line += len(rows)

    def close(self) -> None:
        self._fh.close()


class Truth:
    def __init__(self, path: Path) -> None:
        self._fh = path.open("w", encoding="utf-8", newline="\n")
        self.counts: dict[str, int] = {}
        # the persons a clue or trap names (keys person, cadre), for the petitions: (rule, id) of each
        # clue in order, and every id a clue or a trap names
        self.clue_subjects: list[tuple[str, str]] = []
        self.named: set[str] = set()

    def _note_subjects(self, rule: str, keys: dict[str, str], *, clue: bool) -> None:
        for key in ("person", "cadre"):
            if key in keys:
                self.named.add(keys[key])
                if clue:
                    self.clue_subjects.append((rule, keys[key]))

    def add(self, kind: str, **fields: Any) -> None:
        rec = {"type": kind, **fields}
        key = f"{kind}:{fields.get('rule', fields.get('case', ''))}"
        self.counts[key] = self.counts.get(key, 0) + 1
        self._fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n")

    def clue(self, rule: str, note: str, **keys: str) -> None:
        self._note_subjects(rule, keys, clue=True)
        self.add("clue", rule=rule, keys=keys, note=note)

    def trap(self, rule: str, note: str, **keys: str) -> None:
        self._note_subjects(rule, keys, clue=False)
        self.add("trap", rule=rule, keys=keys, note=note)

    def mention(
        self, at: tuple[str, int], person: str, case: str, table: str = "subsidy_payment", **extra: Any
    ) -> None:
        """The row at ``(file, line)`` names ``person`` through a quirk: it must resolve to them."""
        self.add("resolution", table=table, file=at[0], line=at[1], person_id=person, case=case, **extra)

    def lookalike(
        self, at: tuple[str, int], not_: str | None, case: str, table: str = "subsidy_payment", **extra: Any
    ) -> None:
        """The row at ``(file, line)`` must not resolve to ``not_`` (``nobody=True``: to no one;
        ``review=<id>``: and that person is among its candidates for review)."""
        self.add("resolution_trap", table=table, file=at[0], line=at[1], must_not_be=not_, case=case, **extra)

    def close(self) -> None:
        self._fh.close()


def write_cadre_workbook(path: Path, year: int, cadres: list[tuple], relatives: list[tuple]) -> None:
    """村社干部名册: two sheets, a title line in row 1, the header in row 2, real Excel dates."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "干部名册"
    ws.append([f"{year}年萧山区村社干部名册"])
    ws.append(list(HEADERS["cadre"]))
    for row in cadres:
        ws.append(list(row))
        for cell in ws[ws.max_row][5:7]:
            if cell.value is not None:
                cell.number_format = "yyyy-mm-dd"
    rel = wb.create_sheet("亲属报备")
    rel.append(["村社干部亲属报备表"])
    rel.append(list(HEADERS["cadre_relative"]))
    for row in relatives:
        rel.append(list(row))
    wb.save(path)
    _freeze_zip(path)


def _freeze_zip(path: Path) -> None:
    """openpyxl stamps the save time into docProps/core.xml and the zip entries; pin both so the
    same seed gives the same bytes."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2024-01-01T00:00:00Z", data
                )
            dst.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
