"""The analyst web UI in Debian's headless Chromium (Playwright), one role per step:
analyst → liaison → supervisor → auditor on one S03 kinship clue. Screenshots: test-artifacts/."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from liveapp import serving

from qingfeng.synth.sample_register import (
    KIN_CADRE,
    KIN_RECIPIENT,
    PASSWORD,
    REG_FILE,
    UNITS,
    seed,
    write_relations,
)
from qingfeng.web.settings import web_settings

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# Chromium logs every Content-Security-Policy violation to the console; the listener also reports the
# ones it might log before a page's console is watched
CSP_WATCH = (
    "document.addEventListener('securitypolicyviolation', (e) => "
    "console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));"
)
CSP_SEEN: list[str] = []


def _csp_message(text: str) -> bool:
    return any(
        marker in text for marker in ("Content Security Policy", "Content-Security-Policy", "CSP violation")
    )


@pytest.fixture
def server(home: Path) -> Iterator[str]:

    from qingfeng.web import create_app

    cfg = web_settings(home=home)
    seed(cfg.resolved_register_url, as_of=dt.date(2025, 6, 30)).dispose()
    write_relations(cfg)  # the graph stage's curated/relation, for the kinship SVG
    app = create_app(cfg)
    with serving(app) as base:
        yield base


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


def sign_in(browser, base: str, username: str):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    context.add_init_script(CSP_WATCH)
    context.on(
        "console", lambda message: CSP_SEEN.append(message.text) if _csp_message(message.text) else None
    )
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, page.content()[:500]
    return context, page


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_clue_from_review_to_closing_across_roles(server, browser):
    masked = KIN_RECIPIENT[:6] + "********" + KIN_RECIPIENT[-4:]
    CSP_SEEN.clear()

    # 1. The analyst filters, opens the S03 clue, sees the kinship SVG, comments and dispatches.
    ctx, page = sign_in(browser, server, "analyst1")
    page.select_option("select[name=rule]", "S03")  # auto-submits
    page.wait_for_url("**/clues?*rule=S03*")
    rows = page.locator("#queue tbody tr")
    assert rows.count() == 1 and "李秀兰" in rows.first.inner_text()
    shot(page, "1-analyst-queue-filtered")
    rows.first.locator("a").first.click()
    page.wait_for_url("**/clues/1")
    svg = page.locator("#graph svg")
    assert svg.count() >= 1 and svg.first.is_visible()
    graph_text = svg.first.text_content() or ""
    assert "王建国" in graph_text and "李秀英" in graph_text and "李秀兰" in graph_text
    assert "王小军" in graph_text  # the subgraph shows neighbours beyond the path
    steps = page.inner_text("#path-steps")
    assert "配偶" in steps and REG_FILE in steps and "2207" in steps and "3015" in steps
    assert KIN_RECIPIENT in page.inner_text("#subjects")  # analysts see full IDs
    page.fill("#form-comment textarea[name=text]", "亲属关系经户籍核对属实,建议派件核查。")
    page.click("#form-comment button")
    page.wait_for_load_state("networkidle")
    assert "亲属关系经户籍核对属实" in page.inner_text("#timeline")
    page.select_option("#form-status select[name=to_status]", "核查")
    page.fill("#form-status input[name=reason]", "启动核查")
    page.click("#form-status button")
    page.wait_for_load_state("networkidle")
    deadline = (dt.date.today() + dt.timedelta(days=15)).isoformat()
    page.select_option("#form-dispatch select[name=unit]", UNITS[0])
    page.fill("#form-dispatch input[name=deadline]", deadline)
    page.click("#form-dispatch button")
    page.wait_for_load_state("networkidle")
    assert "处置" in page.inner_text("#status")
    assert UNITS[0] in page.inner_text("#dispatches")
    shot(page, "2-analyst-dispatched")
    ctx.close()

    # 2. The liaison of that unit sees only this clue, IDs masked, and records rectification.
    ctx, page = sign_in(browser, server, "liaison1")
    assert page.locator("#queue tbody tr").count() == 1
    assert "共 1 条" in page.inner_text("#total")
    assert KIN_RECIPIENT not in page.content() and masked in page.content()
    page.click("#queue tbody tr a")
    page.wait_for_url("**/clues/1")
    content = page.content()
    assert KIN_RECIPIENT not in content and KIN_CADRE not in content and masked in content
    page.fill("#form-rectify textarea[name=measures]", "停发低保待遇,责令退回违规资金,对村书记诫勉谈话。")
    page.fill("#form-rectify input[name=recovered_amount]", "7560")
    count_width = page.eval_on_selector("#form-rectify input[name=sanction_count]", "e => e.offsetWidth")
    assert 0 < count_width < 100  # the narrow count fields: a class in style.css, no style= attribute
    page.fill("#form-rectify input[name=sanction_count]", "1")
    page.fill("#form-rectify input[name=sanction_text]", "党内警告")
    page.click("#form-rectify button")
    page.wait_for_load_state("networkidle")
    assert "整改" in page.inner_text("#status")
    assert "7,560.00" in page.inner_text("#rectifications")
    shot(page, "3-liaison-rectified")
    page.goto(f"{server}/clues/2")
    assert "无权" in page.content()
    ctx.close()

    # 3. The supervisor closes (销号) the clue.
    ctx, page = sign_in(browser, server, "super1")
    page.goto(f"{server}/clues/1")
    page.fill("#form-close input[name=reason]", "整改到位,资金已追回")
    page.click("#form-close button")
    page.wait_for_load_state("networkidle")
    assert "销号" in page.inner_text("#status")
    shot(page, "4-supervisor-closed")
    page.goto(f"{server}/reports/monthly")
    assert "7,560.00" in page.inner_text("#by-rule")
    assert page.locator("svg.chart").count() >= 3
    page.evaluate("window.print = () => { window.printed = true; }")  # the print button: app.js, no onclick
    page.click("button[data-print]")
    assert page.evaluate("window.printed === true")
    shot(page, "5-monthly-report")
    ctx.close()

    # 4. The auditor sees each of those events in the access log (and nothing else).
    ctx, page = sign_in(browser, server, "auditor1")
    assert page.url.endswith("/audit")
    log = page.inner_text("#audit-log")
    for who, what in (
        ("analyst1", "评论"),
        ("analyst1", "dispatch"),
        ("liaison1", "rectification"),
        ("super1", "整改 → 销号"),
        ("liaison1", "登录"),
        ("analyst1", "查看"),
    ):
        assert any(who in line and what in line for line in log.splitlines()), (who, what)
    shot(page, "6-auditor-log")
    page.goto(f"{server}/clues")
    assert "无权" in page.content()
    ctx.close()

    # 5. Under the Content-Security-Policy (no inline script, style or handler) nothing was blocked.
    assert CSP_SEEN == [], CSP_SEEN


def test_logout_ends_the_session_and_the_old_cookie_is_refused(server, browser):
    """A cookie copied before logout opens nothing after it (the session ends in the register)."""
    ctx, page = sign_in(browser, server, "analyst1")
    page.goto(f"{server}/clues")
    assert page.locator("#queue").is_visible()
    saved = ctx.cookies()
    page.click("button:has-text('退出登录')")
    page.wait_for_load_state("networkidle")
    assert "/login" in page.url
    replay = browser.new_context(locale="zh-CN")
    replay.add_cookies(saved)
    stolen = replay.new_page()
    stolen.goto(f"{server}/clues/1")
    assert "/login" in stolen.url and stolen.locator("input[name=password]").is_visible()
    shot(stolen, "old-cookie-refused")
    replay.close()
    ctx.close()
