"""Issue #14, point 5: one masking policy, applied at the boundary (docs/ui.md, "Masking").

Each finding of the issue is proved over real HTTP against ``qingfeng serve`` (the ``live`` fixture): a
19-digit account in an evidence note, the 整改情况 table, a 15-digit ID in free text, and full IDs in the
server's access log. The data is planted in the register the way it gets there in use (the service for
comments and rectifications, the ORM for an evidence row as publishing writes it)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import uuid
from io import BytesIO

import pytest
from sqlalchemy import select

from qingfeng.register.db import make_engine, session_factory
from qingfeng.register.models import AccessLog, Evidence, User
from qingfeng.register.service import ClueService
from qingfeng.synth.sample_register import KIN_CADRE, KIN_RECIPIENT, UNITS, sample_relations, write_relations
from qingfeng.web.settings import web_settings

ACCOUNT = "6217001234567890123"  # 19 digits: a bank account in an evidence note
OLD_ID = "330109850315432"  # a 15-digit resident ID (issued before 1999)
MOBILE = "13912345678"
RECT_MOBILE = "13598765432"
UNNAMED = "330109199001011236"  # a relative without a name in the relation table: the SVG labels it by ID


FULL_NOTE = "显示完整号码"  # register.safe_output.FULL_NOTE (written out: these tests must run on older code)
LONG_DIGITS = re.compile(r"\d{11}")


def masked18(value: str) -> str:
    return value[:6] + "*" * 8 + value[-4:]


def section(page: str, element_id: str, end: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.index(end, start)]


@pytest.fixture(scope="module")
def planted(live):
    """Clue 1 (S03) dispatched to liaison1's unit, with an account in an evidence note, a comment naming a
    15-digit ID and a mobile number, a rectification naming both kin, and an unnamed relative."""
    engine = make_engine(live.url)
    try:
        with session_factory(engine)() as session:
            people = {u.username: u for u in session.scalars(select(User))}
            analyst = ClueService(session, people["analyst1"])
            analyst.transition(1, "核查", reason="初步核实")
            analyst.dispatch(1, UNITS[0], dt.date.today() + dt.timedelta(days=10))
            session.add(
                Evidence(
                    clue_id=1,
                    feed="bank",
                    table_name="bank_flow",
                    file="代发流水_2025.csv",
                    line=12,
                    note=f"代发账户 {ACCOUNT} 转入低保金 1260 元",
                )
            )
            session.commit()
            analyst.comment(1, f"旧版身份证 {OLD_ID} 与户籍一致,联系电话 {MOBILE}")
            ClueService(session, people["liaison1"]).record_rectification(
                1,
                measures=f"停发低保待遇,责令李秀兰({KIN_RECIPIENT})退回违规资金",
                recovered_amount="7560",
                sanction_count=1,
                sanction_text=f"王建国({KIN_CADRE})党内警告",
                org_handling_count=1,
                org_handling_text=f"诫勉谈话,联系电话 {RECT_MOBILE}",
            )
    finally:
        engine.dispose()
    extra = {
        "source": KIN_CADRE,
        "target": UNNAMED,
        "relationship": "parent",
        "schema": "Family",
        "source_name": "王建国",
        "target_name": None,
        "feed": "registry",
        "file": "户籍人口信息_20231231.csv",
        "line": 2210,
    }
    write_relations(web_settings(home=live.home), [*sample_relations(), extra])
    return live


def audit_rows(live, username: str, action: str, target: str) -> list[AccessLog]:
    engine = make_engine(live.url)
    try:
        with session_factory(engine)() as session:
            return list(
                session.scalars(
                    select(AccessLog).where(
                        AccessLog.username == username, AccessLog.action == action, AccessLog.target == target
                    )
                )
            )
    finally:
        engine.dispose()


# --- the findings, over HTTP --------------------------------------------------------------------------


def test_a_bank_account_in_an_evidence_note_is_masked_for_the_liaison(planted):
    page = planted.signed_in("liaison1").get("/clues/1")
    assert page.status_code == 200
    evidence = section(page.text, "evidence", "</table>")
    assert "代发流水_2025.csv" in evidence
    assert ACCOUNT not in page.text
    assert "*" * 15 + ACCOUNT[-4:] in evidence


def test_the_rectification_table_is_masked_like_the_timeline(planted):
    page = planted.signed_in("liaison1").get("/clues/1").text
    table = section(page, "rectifications", "</table>")
    assert "停发低保待遇" in table and "党内警告" in table and "诫勉谈话" in table
    for raw in (KIN_RECIPIENT, KIN_CADRE, RECT_MOBILE):
        assert raw not in table and raw not in page
    assert masked18(KIN_RECIPIENT) in table and masked18(KIN_CADRE) in table
    assert RECT_MOBILE[:3] + "****" + RECT_MOBILE[-4:] in table
    timeline = section(page, "timeline", "</ul>")
    assert masked18(KIN_RECIPIENT) in timeline


def test_a_15_digit_id_and_a_mobile_number_in_free_text_are_masked(planted):
    page = planted.signed_in("liaison1").get("/clues/1").text
    timeline = section(page, "timeline", "</ul>")
    assert "旧版身份证" in timeline
    assert OLD_ID not in page and MOBILE not in page
    assert OLD_ID[:6] + "******" + OLD_ID[-3:] in timeline
    assert MOBILE[:3] + "****" + MOBILE[-4:] in timeline


def test_ids_never_reach_a_url_or_the_access_log(planted):
    analyst = planted.signed_in("analyst1")
    # The search form posts; the answer is the queue at an address with the term sealed.
    posted = planted.post(analyst, "/clues", {"q": KIN_RECIPIENT, "sort": "amount"}, page="/clues")
    assert posted.status_code == 303
    results_url = posted.headers["location"]
    assert results_url.startswith("/clues?") and "qt=" in results_url
    assert not re.search(r"\d{6}", results_url)
    results = analyst.get(results_url)
    assert 'href="/clues/1"' in results.text and 'href="/clues/2"' not in results.text
    assert f'value="{KIN_RECIPIENT}"' in results.text  # the term is in the page body, for the analyst
    hrefs = re.findall(r'href="([^"]*)"', results.text)
    assert any("export.csv?" in h and "qt=" in h for h in hrefs)
    assert not [h for h in hrefs if LONG_DIGITS.search(h)]
    exported = analyst.get(next(h for h in hrefs if "export.csv?" in h).replace("&amp;", "&"))
    assert exported.status_code == 200 and KIN_RECIPIENT in exported.content.decode("utf-8-sig")

    # Subject pages are linked by an opaque token; a raw ID (an old link) is redirected to it.
    detail = analyst.get("/clues/1").text
    links = re.findall(r'href="(/subjects/person/[^"]+)"', detail)
    assert len(links) == 2 and not [link for link in links if re.search(r"\d", link)]
    subject = analyst.get(links[0])
    assert subject.status_code == 200 and "李秀兰" in subject.text and KIN_RECIPIENT in subject.text
    legacy = analyst.get(f"/subjects/person/{KIN_RECIPIENT}")
    assert legacy.status_code == 303 and legacy.headers["location"] == links[0]
    typed = analyst.get("/clues", params={"q": KIN_CADRE})
    assert typed.status_code == 303 and KIN_CADRE not in typed.headers["location"]
    assert analyst.get("/clues", params={"q": ACCOUNT}).status_code == 303
    anonymous = planted.client()
    anonymous.get(f"/subjects/person/{OLD_ID}")  # → /login?next=…, the ID percent-encoded
    anonymous.get(f"/login?next=%2Fsubjects%2Fperson%2F{KIN_RECIPIENT}%3Fm%3D{MOBILE}")

    marker = uuid.uuid4().hex  # uvicorn writes the access line after the response: wait for the last one
    planted.client().get(f"/healthz?probe={marker}")
    deadline = time.monotonic() + 10
    while marker not in planted.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = planted.log_text()
    assert marker in log
    for raw in (KIN_RECIPIENT, KIN_CADRE, ACCOUNT, OLD_ID, MOBILE):
        assert raw not in log, raw
    assert f"/subjects/person/{masked18(KIN_RECIPIENT)}" in log  # the old link was logged, masked
    assert f"q={masked18(KIN_CADRE)}" in log


def test_roles_that_see_full_numbers_see_them_and_the_view_is_audited(planted):
    page = planted.signed_in("analyst1").get("/clues/1").text
    for raw in (ACCOUNT, OLD_ID, MOBILE, KIN_RECIPIENT, KIN_CADRE, RECT_MOBILE, UNNAMED):
        assert raw in page, raw
    analyst_views = audit_rows(planted, "analyst1", "view", "clue:1")
    assert analyst_views and all(FULL_NOTE in (row.detail or "") for row in analyst_views)
    planted.signed_in("liaison1").get("/clues/1")
    liaison_views = audit_rows(planted, "liaison1", "view", "clue:1")
    assert liaison_views and not [row for row in liaison_views if FULL_NOTE in (row.detail or "")]


def test_the_kinship_svg_masks_an_id_used_as_a_label(planted):
    page = planted.signed_in("liaison1").get("/clues/1").text
    svg = section(page, "graph", "</section>")
    assert 'data-source="relation"' in svg and "<svg" in svg and "王小军" in svg
    assert UNNAMED not in page
    assert masked18(UNNAMED) in svg
    assert re.search(r'<circle cx="[\d.]+" cy="[\d.]+" r="24"', svg)  # the markup itself is untouched


def test_exports_carry_full_numbers_only_for_full_roles_and_say_so_in_the_audit(planted):
    from openpyxl import load_workbook

    analyst = planted.signed_in("analyst1")
    csv_text = analyst.get("/clues/export.csv", params={"rule": "S03"}).content.decode("utf-8-sig")
    assert KIN_RECIPIENT in csv_text
    book = load_workbook(BytesIO(analyst.get("/clues/export.xlsx").content))
    assert KIN_RECIPIENT in str([c.value for row in book.active.iter_rows() for c in row])
    exports = audit_rows(planted, "analyst1", "export", "queue.csv")
    assert exports and FULL_NOTE in (exports[-1].detail or "")


# --- the policy itself (no server) ---------------------------------------------------------------------

MASKED = [
    ("户主 王建国(330109196802101238) 配偶", "户主 王建国(330109********1238) 配偶"),
    ("33010919850315432X", "330109********432X"),
    ("旧证 330109850315432 号", "旧证 330109******432 号"),
    ("账户6217001234567890123转入", "账户***************0123转入"),
    ("账号 621700123456", "账号 ********3456"),
    ("卡号 6222 0212 3456 7890 128", "卡号 **** **** **** ***0 128"),
    ("卡号 6217 0012 3456 7890 123 已核", "卡号 **** **** **** ***0 123 已核"),  # groups of four, no Luhn
    ("身份证３３０１０９１９８５０３１５４３２１号", "身份证330109********4321号"),  # full-width digits
    ("电话13912345678。", "电话139****5678。"),
    ("+86 139-1234-5678", "+86 139-****-5678"),
    ("/subjects/person/330109198503154321?x=1", "/subjects/person/330109********4321?x=1"),
]
KEPT = [
    "2025-01-05 至 2025-06-05",
    "金额 1,234,567,890,123.45 元",
    "486000.00",
    "12345678901234.56",
    "1000 2000 3000 4000",  # a list of amounts: no card prefix
    "0571-87654321",
    "e3b0c44298fc1c149afbf4c8996fb924",
    "91330109MA2B3C4D5E",
    "10012345678",  # 11 digits, no mobile prefix
    "330109********4321",  # masked once: masking again changes nothing
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_the_policy_masks_ids_accounts_and_mobiles(text, expected):
    from qingfeng.register.safe_output import mask_text

    assert mask_text(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_the_policy_leaves_dates_amounts_and_codes_alone(text):
    from qingfeng.register.safe_output import mask_text

    assert mask_text(text) == text


def test_structured_fields_are_masked_whole():
    from qingfeng.register.safe_output import mask_tree

    record = {
        "fingerprint": "123456789012345678",
        "keys": {"person": "P0001234", "account": "ACC-778812", "programme": "低保"},
        "subjects": [{"kind": "person", "id": OLD_ID}, {"kind": "village", "id": "东村"}],
        "evidence": [{"note": f"账户 {ACCOUNT}"}],
    }
    masked = mask_tree(record)
    assert masked["fingerprint"] == record["fingerprint"]
    assert masked["keys"] == {"person": "P*****34", "account": "******8812", "programme": "低保"}
    assert masked["subjects"] == [
        {"kind": "person", "id": "330109******432"},
        {"kind": "village", "id": "东村"},
    ]
    assert ACCOUNT not in str(masked)


def test_the_access_log_filter_masks_request_lines_and_messages():
    from qingfeng.web.logmask import MaskFilter, log_config

    access = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", f"/login?next=%2Fsubjects%2Fperson%2F{KIN_RECIPIENT}", "1.1", 303),
        None,
    )
    MaskFilter().filter(access)
    assert KIN_RECIPIENT not in access.getMessage() and masked18(KIN_RECIPIENT) in access.getMessage()
    other = logging.LogRecord("qingfeng.web.graph", logging.ERROR, __file__, 1, "graph %s", (MOBILE,), None)
    MaskFilter().filter(other)
    assert other.getMessage() == "graph 139****5678"
    config = log_config()
    assert all("mask" in handler["filters"] for handler in config["handlers"].values())


def test_a_sealed_token_opens_only_for_its_purpose_and_secret():
    from qingfeng.register.safe_output import contains_personal
    from qingfeng.web.opaque import Sealer

    sealer = Sealer("s" * 40)
    token = sealer.subject("person", KIN_RECIPIENT)
    assert token.isalpha() and not contains_personal(token)
    assert sealer.open_subject("person", token) == KIN_RECIPIENT
    assert sealer.open_subject("account", token) is None
    assert Sealer("t" * 40).open_subject("person", token) is None
    assert sealer.open_subject("person", KIN_RECIPIENT) is None
    assert sealer.open_subject("person", token[:-2] + ("ab" if token[-2:] != "ab" else "cd")) is None
