"""A 专项治理 project with one task on the sample register, for the web tests whose routes take a
project id (``/campaigns/1``) and a task id."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from qingfeng.campaigns.service import CampaignService
from qingfeng.register.models import CampaignProject
from qingfeng.synth.sample_register import UNITS

OPERATOR = "cli:test"  # the command-line operator owns the database


def add_project(session: Session, code: str = "MSZJ", title: str = "民生资金专项治理") -> CampaignProject:
    service = CampaignService(session, OPERATOR)
    project = service.create_project(
        code,
        title,
        lead_unit=UNITS[0],
        liaison_unit=UNITS[1],
        period_start=dt.date(2025, 1, 1),
        domain="subsidy",
        office="社会救助科",
        hotline="0571-87654321",
    )
    service.add_task(
        project.id,
        "清理死亡人员仍领补助",
        responsible_unit=UNITS[0],
        deadline=dt.date.today() + dt.timedelta(days=30),
        responsible_person="张科长",
        method="数据比对后逐户核实",
    )
    return project
