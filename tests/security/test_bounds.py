"""Input bounds (issue #14 point 7), driven over HTTP against ``qingfeng serve``: absurd ids, pages,
months, dates and amounts answer 400 or 404 with a Chinese message, never 500, and change nothing; the
optimistic-lock version is required on every change of a clue.

Clues of the seeded register: 1 (S03, acted on by the other modules), 2 (moved here through its versioned
lifecycle), 3 (brought to 处置 for the amount tests), 4 (left untouched, the version tests try to change it).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import httpx
import pytest

from qingfeng.synth.sample_register import UNITS

CHINESE = re.compile(r"[\u4e00-\u9fff]")
VERSION = re.compile(r'name="version" value="(\d+)"')
INT4_MAX = 2**31 - 1


def refused(response: httpx.Response, *codes: int) -> str:
    """The response is one of ``codes`` (default 400 or 404) with a Chinese message; returns its text."""
    codes = codes or (400, 404)
    assert response.status_code in codes, (response.status_code, response.text[:300])
    assert CHINESE.search(response.text), response.text[:300]
    return response.text


def version_of(client: httpx.Client, clue_id: int) -> str:
    found = VERSION.search(client.get(f"/clues/{clue_id}").text)
    assert found, f"no version on /clues/{clue_id}"
    return found.group(1)


def rows(page: str, table_id: str) -> int:
    """Data rows of a table of the detail page (its empty-table message is no row)."""
    body = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    return sum(1 for row in body.split("<tr>")[1:] if 'class="muted"' not in row.split("</tr>", 1)[0])


def state_of(client: httpx.Client, clue_id: int) -> tuple[str, str, int, int, int]:
    """(status, version, timeline entries, dispatches, rectifications): what a refused change leaves alone."""
    page = client.get(f"/clues/{clue_id}").text
    status = re.search(r'id="status"><strong>([^<]+)</strong>', page)
    version = VERSION.search(page)
    assert status and version, page[:300]
    timeline = page.split('id="timeline"', 1)[1].split("</ul>", 1)[0].count("<li><time>")
    return status.group(1), version.group(1), timeline, rows(page, "dispatches"), rows(page, "rectifications")


def act(live, client: httpx.Client, clue_id: int, action: str, data: dict[str, str]) -> httpx.Response:
    return live.post(client, f"/clues/{clue_id}/{action}", data, page=f"/clues/{clue_id}")


# -- ids -------------------------------------------------------------------------------------------------

HUGE_IDS = [
    "99999999999999999999",
    str(2**63),
    str(2**63 - 1),
    str(INT4_MAX + 1),
    "0",
    "-1",
    "-99999999999999999999",
]


@pytest.mark.parametrize("clue_id", HUGE_IDS)
def test_clue_ids_beyond_the_column_are_404_not_500(live, clue_id):
    """``/clues/99999999999999999999`` was a 500 (SQLite overflow); a PostgreSQL ``integer`` id ends at
    2^31-1, so every id outside 1..2^31-1 is answered 404 before the database is asked."""
    analyst = live.signed_in("analyst1")
    assert "不存在" in refused(analyst.get(f"/clues/{clue_id}"), 404)
    token = live.csrf(analyst, "/clues")
    for action, data in (
        ("comment", {"text": "越界"}),
        ("assign", {"assignee": "analyst1", "version": "1"}),
        ("status", {"to_status": "核查", "reason": "越界", "version": "1"}),
        ("dispatch", {"unit": UNITS[0], "deadline": dt.date.today().isoformat(), "version": "1"}),
        ("rectify", {"measures": "越界", "recovered_amount": "1", "version": "1"}),
    ):
        response = analyst.post(f"/clues/{clue_id}/{action}", data={**data, "csrf_token": token})
        refused(response, 404)
    supervisor = live.signed_in("super1")
    token = live.csrf(supervisor, "/clues")
    closed = supervisor.post(
        f"/clues/{clue_id}/close", data={"reason": "越界", "version": "1", "csrf_token": token}
    )
    refused(closed, 404)


def test_malformed_clue_ids_are_400(live):
    analyst = live.signed_in("analyst1")
    for clue_id in ("1e3", "abc", "１", "1.0"):
        refused(analyst.get(f"/clues/{clue_id}"), 400, 404)


def test_service_refuses_out_of_range_ids_without_asking_the_database():
    from qingfeng.register.errors import NotFound
    from qingfeng.register.service import ClueService

    class NoDatabase:
        def __getattr__(self, name):
            raise AssertionError(f"the database was asked ({name}) for an impossible id")

    class Actor:
        username, role, active, unit_id = "analyst1", "analyst", True, None

    service = ClueService(NoDatabase(), Actor())  # type: ignore[arg-type]
    for clue_id in (INT4_MAX + 1, 2**63, 10**20, 0, -1):
        with pytest.raises(NotFound):
            service.load(clue_id)


# -- months, pages, dates ----------------------------------------------------------------------------------

MONTHS = [
    "9999-12",
    "0001-01",
    "1999-12",
    "10000-01",
    "2025-13",
    "2025-00",
    "abcd-ef",
    "２０２５-０１",
    "2025-1",
]


@pytest.mark.parametrize("month", MONTHS)
def test_report_months_out_of_range_are_400(live, month):
    """``/dashboard?month=9999-12`` was a 500 (the month after December 9999 is no date)."""
    supervisor = live.signed_in("super1")
    for path in ("/dashboard", "/reports/monthly", "/reports/monthly.xlsx"):
        assert "月份" in refused(supervisor.get(path, params={"month": month}), 400), (path, month)


def test_report_months_in_range_still_work(live):
    supervisor = live.signed_in("super1")
    for month in ("2000-01", "2025-06", dt.date.today().strftime("%Y-%m")):
        for path in ("/dashboard", "/reports/monthly", "/reports/monthly.xlsx"):
            assert supervisor.get(path, params={"month": month}).status_code == 200, (path, month)


@pytest.mark.parametrize(
    "params",
    [
        {"page": "99999999999999999"},
        {"page": str(2**63)},
        {"page": "0"},
        {"page": "-3"},
        {"page": "abc"},
        {"since": "0001-01-01"},
        {"until": "9999-12-31"},
        {"since": "1999-12-31"},
        {"since": "2025-02-30"},
        {"until": "yesterday"},
    ],
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()),
)
def test_audit_pages_and_dates_out_of_range_are_400(live, params):
    """``/audit?page=99999999999999999`` was a 500 (the offset overflows); ``until=9999-12-31`` too (the
    day after); malformed dates were silently dropped, showing an unfiltered log as if filtered."""
    auditor = live.signed_in("auditor1")
    refused(auditor.get("/audit", params=params), 400)


def test_audit_pages_and_dates_in_range_still_work(live):
    auditor = live.signed_in("auditor1")
    today = dt.date.today().isoformat()
    for params in (
        {},
        {"page": "1"},
        {"page": "1000"},
        {"since": "2000-01-01", "until": today},
        {"page": ""},
    ):
        assert auditor.get("/audit", params=params).status_code == 200, params


def test_queue_pages_and_dates_out_of_range_are_reported(live):
    """The queue reports malformed filters on the page (and matches nothing) rather than failing."""
    analyst = live.signed_in("analyst1")
    for params, message in (
        ({"page": "99999999999999999"}, "页码"),
        ({"page": "-3"}, "页码"),
        ({"as_of": "9999-12-31"}, "超出范围"),
        ({"as_of": "0001-01-01"}, "超出范围"),
    ):
        for path in ("/clues", "/clues/export.csv"):
            response = analyst.get(path, params=params)
            assert response.status_code == 200, (path, params, response.status_code)
        assert message in analyst.get("/clues", params=params).text, params


def test_nul_characters_are_refused_before_the_database(live):
    """PostgreSQL refuses NUL in text (psycopg raises, the request fails with 500): refused up front."""
    analyst = live.signed_in("analyst1")
    refused(analyst.get("/clues", params={"town": "a\x00b"}), 400)
    refused(analyst.get("/subjects/person/a%00b"), 400)
    before = state_of(analyst, 1)
    refused(act(live, analyst, 1, "comment", {"text": "空\x00字符"}), 400)
    assert state_of(analyst, 1) == before


def test_oversized_bodies_are_refused(live):
    analyst = live.signed_in("analyst1")
    token = live.csrf(analyst, "/clues/1")
    before = state_of(analyst, 1)
    body = {"text": "长" * 600_000, "csrf_token": token}
    refused(analyst.post("/clues/1/comment", data=body), 413)
    assert state_of(analyst, 1) == before


# -- the optimistic lock -----------------------------------------------------------------------------------

BAD_VERSIONS = [None, "", " ", "abc", "1.0", "-1", "+1", "1e2", "٣", "³", "99999999999999999999"]


@pytest.mark.parametrize("version", BAD_VERSIONS, ids=repr)
def test_every_change_requires_a_numeric_version(live, version):
    """An empty or non-numeric ``version`` skipped the optimistic-lock check: the change went through."""
    supervisor = live.signed_in("super1")
    before = state_of(supervisor, 4)
    changes = (
        ("assign", {"assignee": "analyst1"}),
        ("status", {"to_status": "核查", "reason": "无版本"}),
        ("dispatch", {"unit": UNITS[0], "deadline": (dt.date.today() + dt.timedelta(days=9)).isoformat()}),
        ("rectify", {"measures": "无版本", "recovered_amount": "1"}),
        ("close", {"reason": "无版本"}),
    )
    for action, data in changes:
        sent = {**data} if version is None else {**data, "version": version}
        assert "版本" in refused(act(live, supervisor, 4, action, sent), 400), action
        assert state_of(supervisor, 4) == before, action


def test_a_comment_needs_no_version(live):
    """Comments only add: they never overwrite what someone else wrote, so a stale form must not lose the
    text an analyst typed. A comment is accepted with or without the version (and bumps it)."""
    analyst = live.signed_in("analyst1")
    status, version, entries, *_ = state_of(analyst, 4)
    assert act(live, analyst, 4, "comment", {"text": "无需版本的批注"}).status_code == 303
    assert act(live, analyst, 4, "comment", {"text": "旧版本的批注", "version": version}).status_code == 303
    after = state_of(analyst, 4)
    assert after[0] == status and after[2] == entries + 2 and int(after[1]) > int(version)


def test_the_service_refuses_a_missing_version_for_web_callers(tmp_path):
    from sqlalchemy import select

    from qingfeng.register.db import session_factory
    from qingfeng.register.errors import InvalidInput
    from qingfeng.register.models import User
    from qingfeng.register.service import ClueService
    from qingfeng.synth.sample_register import seed

    engine = seed(f"sqlite:///{tmp_path / 'register.db'}", as_of=dt.date(2025, 6, 30))
    try:
        with session_factory(engine)() as session:
            analyst = session.scalar(select(User).where(User.username == "analyst1"))
            strict = ClueService(session, analyst, require_version=True)
            with pytest.raises(InvalidInput, match="版本"):
                strict.transition(2, "核查", reason="无版本")
            with pytest.raises(InvalidInput, match="版本"):
                strict.assign(2, "analyst1")
            strict.comment(2, "批注无需版本")
            version = strict.load(2).version
            assert strict.transition(2, "核查", reason="有版本", expected_version=version).status == "核查"
            ClueService(session, analyst).transition(2, "发现", reason="命令行与批处理不要求版本")
    finally:
        engine.dispose()


# -- amounts -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def handling(live) -> int:
    """Clue 3 in 处置 (dispatched), where a rectification can be recorded."""
    supervisor = live.signed_in("super1")
    act(
        live,
        supervisor,
        3,
        "status",
        {"to_status": "核查", "reason": "核查金额", "version": version_of(supervisor, 3)},
    )
    deadline = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    act(
        live,
        supervisor,
        3,
        "dispatch",
        {"unit": UNITS[0], "deadline": deadline, "version": version_of(supervisor, 3)},
    )
    assert state_of(supervisor, 3)[0] == "处置"
    return 3


BAD_AMOUNTS = [
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "-1",
    "-0.01",
    "1e25",
    "1E3",
    "99999999999999999.99",
    "10000000000000000",
    "0.001",
    "12.345",
    "abc",
    "1,2,3",
    "0x10",
    "1 000",
    "１e5",
]


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_bad_amounts_are_refused_with_a_chinese_message(live, handling, amount):
    """``recovered_amount=NaN`` was a 500 (a NaN cannot be compared); ``1e25`` was accepted."""
    supervisor = live.signed_in("super1")
    before = state_of(supervisor, handling)
    data = {"measures": "追缴", "recovered_amount": amount, "version": before[1]}
    assert "金额" in refused(act(live, supervisor, handling, "rectify", data), 400)
    assert state_of(supervisor, handling) == before


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("9999999999999999.99", "9,999,999,999,999,999.99"),
        ("7,560.5", "7,560.50"),
        (" 12.30 ", "12.30"),
        ("", "0.00"),
    ],
)
def test_amounts_in_range_are_recorded_exactly(live, handling, amount, shown):
    supervisor = live.signed_in("super1")
    before = state_of(supervisor, handling)
    data = {"measures": f"追缴 {amount}", "recovered_amount": amount, "version": before[1]}
    assert act(live, supervisor, handling, "rectify", data).status_code == 303
    page = supervisor.get(f"/clues/{handling}").text
    assert state_of(supervisor, handling)[4] == before[4] + 1
    assert f'<td class="num">{shown}</td>' in page, shown


def test_parse_money_is_the_one_rule_for_amounts():
    from qingfeng.register.bounds import MONEY_MAX, parse_money
    from qingfeng.register.errors import InvalidInput

    assert parse_money("9999999999999999.99") == MONEY_MAX
    assert parse_money(Decimal("12.5")) == Decimal("12.50")
    assert parse_money(7560) == Decimal("7560.00")
    assert parse_money("-0") == Decimal("0.00") and not parse_money("-0").is_signed()
    assert parse_money("１２.５") == Decimal("12.50")  # full-width digits, as an IME types them
    for bad in (
        float("nan"),
        float("inf"),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("1e25"),
        True,
        None,
        "",
        [1],
    ):
        with pytest.raises(InvalidInput):
            parse_money(bad)  # type: ignore[arg-type]
    assert parse_money("-5", allow_negative=True) == Decimal("-5.00")
    assert parse_money("12.345", exact=False) == Decimal("12.35")  # the pipeline's sums: rounded half up
    with pytest.raises(InvalidInput):
        parse_money("NaN", exact=False)


# -- dispatch deadlines ------------------------------------------------------------------------------------


@pytest.mark.parametrize("deadline", ["9999-12-31", "10000-01-01", "0001-01-01", "2025-02-30", "明天"])
def test_dispatch_deadlines_out_of_range_are_400(live, deadline):
    """A deadline must be a real date from today to a year ahead (办理期限); 9999-12-31 was accepted."""
    supervisor = live.signed_in("super1")
    before = state_of(supervisor, 4)
    data = {"unit": UNITS[0], "deadline": deadline, "version": before[1]}
    assert "期限" in refused(act(live, supervisor, 4, "dispatch", data), 400)
    assert state_of(supervisor, 4) == before


def test_count_fields_out_of_range_are_400(live, handling):
    supervisor = live.signed_in("super1")
    before = state_of(supervisor, handling)
    for field, value in (
        ("sanction_count", "99999999999999999999"),
        ("org_handling_count", "-1"),
        ("sanction_count", "NaN"),
    ):
        data = {"measures": "人数", "recovered_amount": "1", field: value, "version": before[1]}
        refused(act(live, supervisor, handling, "rectify", data), 400)
    assert state_of(supervisor, handling) == before


def test_no_request_of_this_module_was_a_server_error(live):
    """Whatever the absurd input, the server's own log shows no 500 and no traceback."""
    log = live.log_text()
    assert " 500 " not in log and "Traceback" not in log, log[-3000:]


# -- on PostgreSQL, where an int4 id, a NUL and an overflowing numeric fail in the database -----------

from pg import pg_server  # noqa: E402,F401  (the session's PostgreSQL server)


@pytest.mark.postgres
def test_on_postgresql_absurd_input_is_refused_before_the_database(pg_server, start_live):  # noqa: F811
    """PostgreSQL's ``integer`` ends at 2^31-1 (``/clues/2147483648`` was 'integer out of range'), its
    text holds no NUL, its ``numeric(18,2)`` no 17-digit amount: each was a 500 there."""
    server = start_live(extra_env={"QINGFENG_REGISTER_URL": pg_server.create_database("security_bounds")})
    supervisor = server.signed_in("super1")
    for clue_id in (INT4_MAX + 1, 2**63, 10**20):
        refused(supervisor.get(f"/clues/{clue_id}"), 404)
        refused(act(server, supervisor, clue_id, "comment", {"text": "越界"}), 404)
    refused(supervisor.get("/clues", params={"town": "\x00"}), 400)
    refused(act(server, supervisor, 2, "comment", {"text": "空\x00字符"}), 400)
    act(
        server,
        supervisor,
        2,
        "status",
        {"to_status": "核查", "reason": "金额", "version": version_of(supervisor, 2)},
    )
    deadline = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    act(
        server,
        supervisor,
        2,
        "dispatch",
        {"unit": UNITS[0], "deadline": deadline, "version": version_of(supervisor, 2)},
    )
    before = state_of(supervisor, 2)
    assert before[0] == "处置"
    for amount in ("99999999999999999.99", "1e25", "NaN"):
        data = {"measures": "追缴", "recovered_amount": amount, "version": before[1]}
        assert "金额" in refused(act(server, supervisor, 2, "rectify", data), 400)
    assert state_of(supervisor, 2) == before
    data = {"measures": "追缴", "recovered_amount": "9999999999999999.99", "version": before[1]}
    assert act(server, supervisor, 2, "rectify", data).status_code == 303
    assert '<td class="num">9,999,999,999,999,999.99</td>' in supervisor.get("/clues/2").text
    log = server.log_text()
    assert " 500 " not in log and "Traceback" not in log, log[-3000:]
