"""专项治理 in Debian's headless Chromium (Playwright), as the supervisor: create a project and a task,
record an inspection with one finding, work the finding through 核查 → 处置 (dispatched to a unit) →
整改 (funds recovered, a sanction, 问责, 通报曝光) → 销号, add a system built (制度); then the campaign
report (``/reports/campaign``) and the public page (``/public``) show the changed figures, read before
and after the work. Screenshots: test-artifacts/."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from liveapp import serving
from test_browser_ui import (  # the Chromium fixture and the sign-in and screenshot helpers
    CSP_SEEN,
    browser,  # noqa: F401  (a fixture)
    shot,
    sign_in,
)

from qingfeng.campaigns.periods import beijing_today
from qingfeng.settings import PROJECT_ROOT
from qingfeng.synth.sample_register import UNITS, seed
from qingfeng.web.settings import web_settings

pytestmark = pytest.mark.browser

TITLE = "农村低保专项治理"
FINDING = "低保对象死亡后未及时停发"
RECOVERED = Decimal("37000.00")  # 3.7 万元: exact in the headline (2 decimals) and on the public page (1)
INSTITUTION = "低保对象死亡信息比对制度"


@pytest.fixture
def server(home: Path) -> Iterator[str]:
    """The app on the sample register, with the project's config/campaigns.yml except that every
    public figure is shown (``disclosure.min_count`` 1): one problem must show as 1, not as "<3"."""

    from qingfeng.web import create_app

    config = yaml.safe_load((PROJECT_ROOT / "config" / "campaigns.yml").read_text(encoding="utf-8"))
    config["disclosure"] = {"min_count": 1}
    campaigns = home / "campaigns.yml"
    campaigns.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    cfg = web_settings(home=home, campaigns_config=campaigns)
    seed(cfg.resolved_register_url, as_of=dt.date(2025, 6, 30)).dispose()
    app = create_app(cfg)
    with serving(app) as base:
        yield base


# -- the campaign report and the public page, read as a reader would ------------------------------

HEADLINE = {  # figure → the headline sentence's words around it (qingfeng.campaigns.report)
    "inspections": r"共开展检查\s*([\d,]+)\s*次",
    "rectified": r"推动整改问题\s*([\d,]+)\s*个",
    "institutions": r"建立健全制度\s*([\d,]+)\s*项",
    "exposed": r"通报曝光典型案例\s*([\d,]+)\s*起",
    "recovered": r"追缴或挽回资金\s*([\d,.]+)\s*万元",  # 万元
}


def report_figures(page, base: str) -> dict[str, Decimal]:
    """The headline of the campaign report page (its default period: the year to date)."""
    page.goto(f"{base}/reports/campaign")
    text = page.inner_text("main")
    found = {}
    for figure, pattern in HEADLINE.items():
        match = re.search(pattern, text)
        assert match, f"{figure} not in the report's headline: {text[:600]}"
        found[figure] = Decimal(match.group(1).replace(",", ""))
    return found


PUBLIC_FIGURES = {"rectified": "整改", "institutions": "制度", "recovered": "资金", "exposed": "曝光"}


def public_figures(page, base: str) -> dict[str, Decimal]:
    """The project's card on the public page (no session), by its figure titles; an amount in 万元 is
    turned into yuan, a figure withheld below the disclosure threshold (少于N, 不单独公布) is 0."""
    public = page.context.browser.new_context(locale="zh-CN")
    reader = public.new_page()
    reader.goto(f"{base}/public")
    assert "/login" not in reader.url
    pairs = reader.evaluate(
        """title => {
          const card = [...document.querySelectorAll('section.project')]
            .find(s => s.querySelector('h2') && s.querySelector('h2').innerText.trim() === title);
          if (!card) return null;
          return [...card.querySelectorAll('dl.figures > div')]
            .map(d => [d.querySelector('dt').innerText, d.querySelector('dd').innerText]);
        }""",
        TITLE,
    )
    shot(reader, "campaign-public")
    public.close()
    assert pairs, f"{TITLE} is not on the public page"
    found: dict[str, Decimal] = {}
    for figure, word in PUBLIC_FIGURES.items():
        head, value = next((h, v) for h, v in pairs if word in h)
        text = value.replace(",", "").strip()
        withheld = text in ("", "—", "-") or text.startswith(("少于", "不单独"))
        number = Decimal(0) if withheld else Decimal(re.sub(r"[^\d.]", "", text))
        found[figure] = number * 10000 if "万元" in head + value else number
    return found


def test_a_campaign_from_project_to_closed_problem_moves_the_report_and_the_public_page(server, browser):  # noqa: F811
    CSP_SEEN.clear()
    today = beijing_today()
    ctx, page = sign_in(browser, server, "super1")
    report_before = report_figures(page, server)

    # 1. A new project, published (向社会公开), and a task due in two days (yellow).
    page.goto(server)
    page.click("nav a:has-text('专项治理')")
    page.click("#new-project")
    page.fill("#project-form input[name=code]", "NCDB")
    page.fill("#project-form input[name=title]", TITLE)
    page.select_option("#project-form select[name=domain]", "subsidy")
    page.select_option("#project-form select[name=lead_unit]", UNITS[0])
    page.select_option("#project-form select[name=liaison_unit]", UNITS[1])
    page.fill("#project-form input[name=office]", "社会救助科")
    page.fill("#project-form input[name=hotline]", "0571-12388")
    page.fill("#project-form input[name=period_start]", today.replace(month=1, day=1).isoformat())
    shot(page, "campaign-0-new-project")
    page.click("#project-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已新建专项治理项目 NCDB" in page.inner_text("main")
    project_url = page.url
    page.click("#form-publish button")
    page.wait_for_load_state("networkidle")
    assert "已公开" in page.inner_text("#project-public")
    public_before = public_figures(page, server)

    page.fill("#form-task input[name=title]", "逐户核查死亡人员领取低保情况")
    page.select_option("#form-task select[name=responsible_unit]", UNITS[0])
    page.fill("#form-task input[name=responsible_person]", "王科长")
    page.fill("#form-task input[name=deadline]", (today + dt.timedelta(days=2)).isoformat())
    page.fill("#form-task input[name=method]", "比对殡葬与低保名单")
    page.click("#form-task button")
    page.wait_for_load_state("networkidle")
    task_row = page.locator("#task-list tr.task-row").first
    assert "王科长" in task_row.inner_text() and task_row.locator(".colour-yellow").count() == 1
    shot(page, "campaign-1-project-and-task")

    # 2. An inspection with one finding: a problem in the register, linked from the inspection.
    page.fill("#form-inspection input[name=inspecting_unit]", "区纪委监委第三监督检查室")
    page.fill("#form-inspection textarea[name=places]", "城关镇民政办\n红星村村委会")
    page.fill("#form-inspection textarea[name=summary]", "抽查低保档案 40 卷")
    page.fill("#form-inspection textarea[name=findings]", f"高:{FINDING}")
    page.click("#form-inspection button")
    page.wait_for_load_state("networkidle")
    assert "发现问题 1 个" in page.inner_text("main")
    inspections = page.inner_text("#inspection-list")
    assert FINDING in inspections and "城关镇民政办、红星村村委会" in inspections
    shot(page, "campaign-2-inspection")
    page.click("#inspection-list a:has-text('#')")
    page.wait_for_load_state("networkidle")
    assert "监督检查" in page.inner_text("#source") and TITLE in page.inner_text("#project")

    # 3. 核查 → 处置 (dispatched) → 整改 with its outcomes → 销号, and a system built on it.
    page.select_option("#form-status select[name=to_status]", "核查")
    page.fill("#form-status input[name=reason]", "调阅低保档案")
    page.click("#form-status button")
    page.wait_for_load_state("networkidle")
    page.select_option("#form-dispatch select[name=unit]", UNITS[0])
    page.fill("#form-dispatch input[name=deadline]", (dt.date.today() + dt.timedelta(days=15)).isoformat())
    page.click("#form-dispatch button")
    page.wait_for_load_state("networkidle")
    assert "处置" in page.inner_text("#status") and UNITS[0] in page.inner_text("#dispatches")
    page.fill("#form-rectify textarea[name=measures]", "停发低保待遇,追回多发资金")
    page.fill("#form-rectify input[name=recovered_amount]", str(RECOVERED))
    page.fill("#form-rectify input[name=sanction_count]", "1")
    page.fill("#form-rectify input[name=sanction_text]", "党内警告")
    page.fill("#form-rectify input[name=accountability_count]", "2")
    page.fill("#form-rectify input[name=accountability_text]", "对民政办负责人问责")
    page.fill("#form-rectify input[name=exposure_count]", "1")
    page.click("#form-rectify button")
    page.wait_for_load_state("networkidle")
    rectified = page.inner_text("#rectifications")
    assert "37,000.00" in rectified and "2 人 对民政办负责人问责" in rectified and "1 起" in rectified
    page.fill("#form-close input[name=reason]", "整改到位,资金已追回")
    page.click("#form-close button")
    page.wait_for_load_state("networkidle")
    assert "销号" in page.inner_text("#status")
    page.fill("#form-institution input[name=title]", INSTITUTION)
    page.fill("#form-institution input[name=issuer]", UNITS[0])
    page.click("#form-institution button")
    page.wait_for_load_state("networkidle")
    assert INSTITUTION in page.inner_text("#clue-institutions")
    shot(page, "campaign-3-problem-closed")

    page.goto(project_url)
    assert INSTITUTION in page.inner_text("#institution-list")
    counts = page.inner_text("#problem-counts")
    assert "监督检查" in counts and "销号" in counts
    shot(page, "campaign-4-project-outcomes")

    # 4. The campaign report and the public page moved by exactly this work.
    report_after = report_figures(page, server)
    assert {k: report_after[k] - report_before[k] for k in HEADLINE} == {
        "inspections": 1,
        "rectified": 1,
        "institutions": 1,
        "exposed": 1,
        "recovered": RECOVERED / 10000,
    }
    shot(page, "campaign-5-report")
    public_after = public_figures(page, server)
    assert {k: public_after[k] - public_before[k] for k in PUBLIC_FIGURES} == {
        "rectified": 1,
        "institutions": 1,
        "exposed": 1,
        "recovered": RECOVERED,
    }
    ctx.close()

    # 5. Under the Content-Security-Policy (no inline script, style or handler) nothing was blocked.
    assert CSP_SEEN == [], CSP_SEEN
