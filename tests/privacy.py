"""Personal data of a district, and a check that a page shows none of it (向社会公开, issue #16).

``district_identifiers(folder)`` reads every export file of a district folder (``qingfeng synth``, the
demo's ``<home>/district``) the way the pipeline frames it (``ingest.framing``), and collects what the
feed declarations (``feeds/*.yml``) say is personal:

* resident IDs: the values of ``resident_id`` columns, and of ``party_id`` columns when shaped like
  a resident ID (18 or 15 digits; a company's credit code is not personal);
* bank accounts: the values of ``bank_account`` columns;
* person names: string columns whose header contains 姓名 or ends in 人 (经办人, 法定代表人), and a
  ``<x>_name`` column beside a ``<x>_id`` ID column of the same file (股东名称, 承租方名称);
* villages and towns: the ``village`` and ``town`` columns (the canonical names the rules use).

``register_identifiers(session)`` adds what the register itself names (subjects, keys, task persons,
users, villages and towns of clues). ``leaks(html, identifiers, …)`` lists every such
value found in a page, and every number the masking policy would take for an ID, account or mobile,
or that it already masked (``****``)."""

from __future__ import annotations

import html as htmlmod
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq

from qingfeng.feeds.model import ColumnType, FileSpec, load_feeds
from qingfeng.ingest.framing import frame_file
from qingfeng.register.safe_output import contains_personal

FEEDS = Path(__file__).resolve().parent.parent / "feeds"
ID_SHAPE = re.compile(r"\d{17}[\dX]|\d{15}")
FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789XX")
ID_COLUMNS = (ColumnType.resident_id, ColumnType.party_id)
PLACE_COLUMNS = {"village": "villages", "town": "towns"}
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Identifiers:
    ids: set[str] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    villages: set[str] = field(default_factory=set)
    towns: set[str] = field(default_factory=set)

    def __ior__(self, other: Identifiers) -> Identifiers:
        for name in ("ids", "accounts", "names", "villages", "towns"):
            getattr(self, name).update(getattr(other, name))
        return self

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in vars(self).items()}


def _digits(value: str) -> str:
    return re.sub(r"[\s\-]", "", value.translate(FULL_WIDTH)).upper()


def name_columns(spec: FileSpec) -> list[str]:
    """The canonical names of the columns that hold person names, read from the declaration."""
    ids = {c.name for c in spec.columns.values() if c.type in ID_COLUMNS}
    out = []
    for header, column in spec.columns.items():
        if column.type is not ColumnType.string:
            continue
        paired = column.name.endswith("_name") and f"{column.name[: -len('_name')]}_id" in ids
        if "姓名" in header or header.endswith("人") or paired:
            out.append(column.name)
    return out


def _rows(path: Path, spec: FileSpec, scratch: Path) -> Iterator[dict[str, str | None]]:
    staged, rejects = scratch / f"{path.name}.parquet", scratch / f"{path.name}.rejects.parquet"
    frame_file(path, spec, staged, rejects)
    yield from pq.read_table(staged).to_pylist()


def district_rows(folder: Path, table: str, feeds_dir: Path = FEEDS) -> list[dict[str, str | None]]:
    """Every row of one table of a district folder, by canonical column name (framed, not parsed)."""
    out: list[dict[str, str | None]] = []
    with tempfile.TemporaryDirectory(prefix="privacy-") as scratch:
        for feed in load_feeds(feeds_dir, strict=True):
            for spec in feed.files:
                if spec.table == table:
                    for path in sorted(folder.iterdir()):
                        if path.is_file() and spec.matches(path.name):
                            out.extend(_rows(path, spec, Path(scratch)))
    return out


def district_identifiers(folder: Path, feeds_dir: Path = FEEDS) -> Identifiers:
    found = Identifiers()
    files = 0
    with tempfile.TemporaryDirectory(prefix="privacy-") as scratch:
        for feed in load_feeds(feeds_dir, strict=True):
            for spec in feed.files:
                names = name_columns(spec)
                ids = [c.name for c in spec.columns.values() if c.type in ID_COLUMNS]
                accounts = [c.name for c in spec.columns.values() if c.type is ColumnType.bank_account]
                places = [c.name for c in spec.columns.values() if c.name in PLACE_COLUMNS]
                for path in sorted(folder.iterdir()):
                    if not (path.is_file() and spec.matches(path.name)):
                        continue
                    files += 1
                    for row in _rows(path, spec, Path(scratch)):
                        _collect(found, row, ids=ids, accounts=accounts, names=names, places=places)
    assert files, f"no export file of any feed in {folder}"
    return found


def _collect(
    found: Identifiers,
    row: dict[str, str | None],
    *,
    ids: list[str],
    accounts: list[str],
    names: list[str],
    places: list[str],
) -> None:
    for column in ids:
        value = (row.get(column) or "").strip()
        if ID_SHAPE.fullmatch(_digits(value)):
            found.ids.update({value, _digits(value)})
    for column in accounts:
        value = (row.get(column) or "").strip()
        if len(_digits(value)) >= 8:
            found.accounts.update({value, _digits(value)})
    for column in names:
        value = (row.get(column) or "").strip()
        if len(value) >= 2:
            found.names.add(value)
    for column in places:
        value = (row.get(column) or "").strip()
        if len(value) >= 2:
            getattr(found, PLACE_COLUMNS[column]).add(value)


def register_identifiers(session) -> Identifiers:
    """What the register names: subjects of persons and accounts, person and account keys, task
    persons, users, and the villages and towns of its clues."""
    from sqlalchemy import select

    from qingfeng.register.models import CampaignTask, Clue, ClueSubject, User

    found = Identifiers()
    for kind, subject_id, name in session.execute(
        select(ClueSubject.kind, ClueSubject.subject_id, ClueSubject.name)
    ):
        if kind in ("person", "account"):
            (found.ids if kind == "person" else found.accounts).add(subject_id)
            if name:
                found.names.add(name)
    for keys, village, town in session.execute(select(Clue.keys, Clue.village, Clue.town)):
        for key in ("person", "cadre", "recipient", "payee", "relative"):
            if isinstance(keys.get(key), str):
                found.ids.add(keys[key])
        if isinstance(keys.get("account"), str):
            found.accounts.add(keys["account"])
        if village:
            found.villages.add(village)
        if town:
            found.towns.add(town)
    found.names.update(p for p in session.scalars(select(CampaignTask.responsible_person)) if p)
    found.names.update(session.scalars(select(User.display_name)))
    return found


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.parts.append(data.strip())


def text_of(page: str) -> list[str]:
    """The text nodes of a page."""
    parser = _Text()
    parser.feed(page)
    return parser.parts


def _excused(text: str, name: str, phrases: Iterable[str], fields: Iterable[str]) -> bool:
    """Whether every occurrence of a two-character ``name`` in ``text`` lies inside an occurrence of
    one of the page's own ``phrases``, or inside a ``field`` it shows, between two CJK characters of
    that field (a word: 工程建设 holds 程建; 专班成员:张伟、李四 names 李四)."""
    spans = [
        (m.start(), m.start() + len(p)) for p in phrases if name in p for m in re.finditer(re.escape(p), text)
    ]
    for field_text in fields:
        inner = [
            k
            for k in range(1, len(field_text) - len(name))
            if field_text.startswith(name, k)
            and CJK.match(field_text[k - 1])
            and CJK.match(field_text[k + len(name)])
        ]
        for m in re.finditer(re.escape(field_text), text):
            spans += [(m.start() + k, m.start() + k + len(name)) for k in inner]
    return all(
        any(a <= m.start() and m.end() <= b for a, b in spans) for m in re.finditer(re.escape(name), text)
    )


def leaks(
    page: str, found: Identifiers, public_phrases: Iterable[str] = (), fields: Iterable[str] = ()
) -> list[str]:
    """Every personal value of ``found`` in ``page`` (its markup and its text, entities decoded), every
    number the masking policy would mask and every masked one. A two-character name (张伟) may also be
    a word of the page (工程建设 holds 程建): it is excused where each of its occurrences lies inside one
    of the page's own ``public_phrases`` (its wording), or inside a word of one of the ``fields`` it
    shows (project titles, units). IDs, accounts, villages, towns and longer names are never excused."""
    text = htmlmod.unescape(page)
    phrases = [p for p in public_phrases if p]
    shown = [f for f in fields if f]
    out = [f"ID {v}" for v in sorted(found.ids) if v and v in text]
    out += [f"account {v}" for v in sorted(found.accounts) if v and v in text]
    out += [f"village {v}" for v in sorted(found.villages) if v in text]
    out += [f"town {v}" for v in sorted(found.towns) if v in text]
    for name in sorted(found.names):
        if name in text and not (len(name) == 2 and CJK.match(name) and _excused(text, name, phrases, shown)):
            out.append(f"name {name}")
    out += [f"personal number in {part!r}" for part in text_of(page) if contains_personal(part)]
    if "***" in text:
        out.append("a masked number (***)")
    return out


def template_phrases() -> list[str]:
    """The public page's own wording (labels, headings, notes): its template rendered around one
    project whose every value is a dash."""
    import datetime as dt

    from qingfeng.campaigns.disclosure import FIGURES, Disclosure, PublicProject, Shown
    from qingfeng.web.public_page import render_disclosure

    dash = Shown(None, "-")
    project = PublicProject("-", "-", "-", dt.date(2000, 1, 1), None, "-", dash, dash, dash, dash)
    empty = Disclosure(dt.date(2000, 1, 1), 3, (project,), dict.fromkeys(FIGURES, dash))
    return text_of(render_disclosure(empty, stylesheet="-"))


def public_page_leaks(page: str, identifiers: Identifiers, disclosure) -> list[str]:
    """``leaks`` of a public page (GET /public, the static export): its phrases are the template's
    wording, its fields what ``disclosure`` (``campaigns.disclosure.public_disclosure``) lists of each
    project. Against the demo: ``identifiers = district_identifiers(home / "district")``, ``|=``
    ``register_identifiers(session)``."""
    shown = [
        value for p in disclosure.projects for value in (p.title, p.lead_unit, p.hotline, p.status) if value
    ]
    return leaks(page, identifiers, template_phrases(), shown)
