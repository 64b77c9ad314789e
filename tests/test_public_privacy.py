"""The public page holds no personal data (issue #16 acceptance): a district generated with
``qingfeng synth``, a register whose public projects' problems, tasks, inspections and evidence name
its people; the page in headless Chromium (GET /public, on a phone and on a desk) and the static export
are searched for every ID, name, account, village and town of the district's files and the register
(tests/privacy.py). The same check runs against the demo with ``privacy.public_page_leaks``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from campaignkit import PROJECTS, Person, add_public_projects
from click.testing import CliRunner
from liveapp import serving
from privacy import (
    ID_SHAPE,
    Identifiers,
    district_identifiers,
    district_rows,
    leaks,
    public_page_leaks,
    register_identifiers,
)
from test_browser_ui import ARGS, ARTIFACTS, CHROMIUM, CSP_WATCH

from qingfeng.campaigns.disclosure import public_disclosure
from qingfeng.cli import main
from qingfeng.register.db import session_factory
from qingfeng.synth.sample_register import seed
from qingfeng.web import create_app
from qingfeng.web.settings import web_settings

pytestmark = pytest.mark.browser


def people_of(district: Path, count: int = 3) -> list[Person]:
    """Recipients of the district's subsidy files, with their ID, name, account, village and town."""
    out: dict[str, Person] = {}
    for row in district_rows(district, "subsidy_payment"):
        values = [row.get(k) or "" for k in ("id_no", "name", "account", "village", "town")]
        if ID_SHAPE.fullmatch(values[0]) and values[2].isdigit() and all(values) and values[1] not in out:
            out[values[1]] = Person(*values)
        if len(out) == count:
            break
    return list(out.values())


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:

    root = tmp_path_factory.mktemp("privacy")
    district = root / "district"
    made = CliRunner().invoke(main, ["synth", "--households", "30", "--seed", "16", "--out", str(district)])
    assert made.exit_code == 0, made.output
    home = root / "home"
    cfg = web_settings(home=home, session_secret="privacy-test-" + "x" * 40)
    engine = seed(cfg.resolved_register_url, as_of=dt.date(2025, 6, 30))
    people = people_of(district)
    with session_factory(engine)() as session:
        add_public_projects(session, people)
        found = district_identifiers(district)
        found |= register_identifiers(session)
        disclosure = public_disclosure(session, min_count=3)
    engine.dispose()
    with serving(create_app(cfg)) as base:
        yield {"base": base, "home": home, "people": people, "found": found, "disclosure": disclosure}


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


def open_page(chromium, url: str, viewport: dict[str, int], name: str) -> tuple[str, list[str]]:
    """The page as Chromium renders it, and the console's complaints (CSP violations, failed loads);
    asserts that its stylesheet applied and nothing is wider than the screen."""
    context = chromium.new_context(locale="zh-CN", viewport=viewport)
    context.add_init_script(CSP_WATCH)
    complaints: list[str] = []
    context.on("console", lambda m: complaints.append(m.text) if m.type in ("error", "warning") else None)
    page = context.new_page()
    page.goto(url)
    page.wait_for_load_state("networkidle")
    masthead = page.evaluate("getComputedStyle(document.querySelector('.masthead')).backgroundColor")
    assert masthead == "rgb(166, 27, 27)", (url, masthead)  # public.css applied under its CSP
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (url, viewport)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"public-{name}.png"), full_page=True)
    content = page.content()
    context.close()
    return content, complaints


def test_the_district_is_personal_enough_for_the_check_to_mean_something(site):
    found: Identifiers = site["found"]
    counts = found.counts()
    assert counts["ids"] > 500 and counts["accounts"] > 100 and counts["names"] > 500, counts
    assert counts["villages"] >= 10 and counts["towns"] >= 5, counts
    for person in site["people"]:  # the problems of the public projects name the district's people
        assert person.id in found.ids and person.name in found.names and person.account in found.accounts


def test_the_check_finds_what_it_looks_for(site):
    """A page that did leak: each kind of value is found, even masked, and a two-letter name is only
    excused inside the page's own wording."""
    found, person = site["found"], site["people"][0]
    page = "<p>项目</p>"
    assert leaks(page, found) == []
    for planted, kind in (
        (person.id, "ID"),
        (person.account, "account"),
        (person.name, "name"),
        (person.village, "village"),
        (person.town, "town"),
        (person.id[:6] + "********" + person.id[-4:], "masked"),
    ):
        assert any(kind in hit for hit in leaks(f"<p>问题:{planted}</p>", found)), (kind, planted)
    two = next(n for n in sorted(found.names) if len(n) == 2)
    assert leaks(f"<p>工{two}程</p>", found, [f"工{two}程"]) == []  # the page's own wording
    assert leaks(f"<p>工{two}程 {two}</p>", found, [f"工{two}程"]) == [f"name {two}"]
    assert leaks(f"<h2>村级工{two}程治理</h2>", found, fields=[f"村级工{two}程治理"]) == []  # a title's word
    listed = f"专班成员:甲乙、{two}"
    assert leaks(f"<dd>{listed}</dd>", found, fields=[listed]) == [f"name {two}"]  # named, not a word


@pytest.mark.parametrize(
    "name,viewport", [("phone", {"width": 375, "height": 740}), ("desk", {"width": 1280, "height": 900})]
)
def test_the_public_page_in_a_browser_shows_no_personal_data(site, chromium, name, viewport):
    content, complaints = open_page(chromium, f"{site['base']}/public", viewport, name)
    assert PROJECTS["MSZJ"][0] in content and "少于3" in content  # the page is there, figures and all
    assert public_page_leaks(content, site["found"], site["disclosure"]) == []
    assert complaints == [], complaints


def test_the_static_export_shows_no_personal_data(site, chromium, tmp_path):
    out = tmp_path / "site"
    done = CliRunner().invoke(
        main, ["campaigns", "export-public", "--home", str(site["home"]), "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    content, complaints = open_page(
        chromium, (out / "index.html").as_uri(), {"width": 375, "height": 740}, "export"
    )
    assert PROJECTS["NMGGZ"][0] in content
    for path in out.iterdir():
        assert public_page_leaks(path.read_text(encoding="utf-8"), site["found"], site["disclosure"]) == []
    assert public_page_leaks(content, site["found"], site["disclosure"]) == []
    assert complaints == [], complaints
