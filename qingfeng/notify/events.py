"""The events that notify someone, who receives them, and which ones a user cannot mute."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventKind:
    name: str
    title: str
    recipients: str  # who receives it, as the settings page says
    mandatory: bool  # cannot be muted: an order to act, or a deadline already missed


EVENT_KINDS = (
    EventKind("dispatch_received", "收到派件", "承办单位的联络员", mandatory=True),
    EventKind(
        "deadline_soon", "办理期限临近", "承办单位的联络员;任务清单的责任单位和牵头单位", mandatory=False
    ),
    EventKind(
        "deadline_passed",
        "已超期(黄牌、红牌)",
        "承办单位的联络员;任务清单的责任单位和牵头单位",
        mandatory=True,
    ),
    EventKind("supervision_listed", "挂牌督办", "督办事项的责任单位和督办领导", mandatory=True),
    EventKind("clue_assigned", "分派承办", "被指定的承办人", mandatory=False),
    EventKind("monthly_report_ready", "月报已生成", "监督室主任和分析员", mandatory=False),
)
EVENTS = {kind.name: kind for kind in EVENT_KINDS}
MANDATORY = frozenset(kind.name for kind in EVENT_KINDS if kind.mandatory)
MUTABLE = tuple(kind.name for kind in EVENT_KINDS if not kind.mandatory)
TEST = "test"  # ``qingfeng notify test``: one message to an address, no recipient
