"""Vocabulary of matches: statuses, status sets, stage moves, reject reasons."""
from __future__ import annotations

from core.vocab import Labeled


class MatchStatus(Labeled):
    proposed = ("proposed", "待审核")
    accepted = ("accepted", "已采纳")
    rejected = ("rejected", "已驳回")
    withdrawn = ("withdrawn", "已撤回")
    introduced = ("introduced", "已介绍对接")
    negotiating = ("negotiating", "洽谈中")
    contracted = ("contracted", "已签约")
    failed = ("failed", "未成交")


class RejectReason(Labeled):
    field = ("field", "领域不符")
    maturity = ("maturity", "成熟度不足")
    price = ("price", "价格/预算不匹配")
    unclear = ("unclear", "需求不清晰")
    existing = ("existing", "已有合作")
    region = ("region", "地域限制")
    other = ("other", "其他")


OPEN_STATUSES = ("proposed", "accepted")


#: a broker accepted the proposal: the pipeline stages, in board order. The two parties see
#: these; a pair in one of them can be contracted (failed: talks resumed and a contract was
#: signed after all); the indicators count them as recommended.
ACCEPTED_STATUSES = ("accepted", "introduced", "negotiating", "contracted", "failed")


#: the parties were introduced: contacts are visible to both sides
INTRODUCED_STATUSES = ("introduced", "negotiating", "contracted", "failed")
#: manual stage moves (set_stage); contracted also via mark_contracted
STAGE_MOVES: dict[str, set[str]] = {
    "introduced": {"negotiating", "contracted", "failed"},
    "negotiating": {"contracted", "failed"},
    "failed": {"negotiating"},  # talks resumed
}


#: listing statuses on which open proposals are withdrawn
WITHDRAW_ON = {"closed", "draft", "pending_review", "solved", "transferred"}
