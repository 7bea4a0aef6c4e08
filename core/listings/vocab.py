"""Vocabularies of listings: statuses, transitions, cooperation and transfer modes, maturity."""
from __future__ import annotations

from core.vocab import Labeled


class ProblemStatus(Labeled):
    draft = ("draft", "草稿")
    pending_review = ("pending_review", "待审核")
    published = ("published", "已发布")
    matched = ("matched", "已对接")
    solved = ("solved", "已解决")
    closed = ("closed", "已关闭")


class AchievementStatus(Labeled):
    draft = ("draft", "草稿")
    pending_review = ("pending_review", "待审核")
    published = ("published", "已发布")
    transferred = ("transferred", "已转化")
    closed = ("closed", "已关闭")


PROBLEM_TRANSITIONS: dict[str, set[str]] = {
    "draft": {"published", "closed"},
    "pending_review": {"published", "closed"},
    "published": {"matched", "solved", "closed", "draft"},
    "matched": {"solved", "published", "closed"},
    "solved": {"closed"},
    "closed": set(),
}


ACHIEVEMENT_TRANSITIONS: dict[str, set[str]] = {
    "draft": {"published", "closed"},
    "pending_review": {"published", "closed"},
    "published": {"transferred", "closed", "draft"},
    "transferred": {"published", "closed"},
    "closed": set(),
}


#: every listing status, of either kind (the index backends code them)
LISTING_STATUSES: tuple[str, ...] = tuple(dict.fromkeys([*ProblemStatus, *AchievementStatus]))

# Statuses other organizations may see (drafts and crawled-but-unreviewed are private).
PUBLIC_PROBLEM_STATUSES = {"published", "matched", "solved"}


PUBLIC_ACHIEVEMENT_STATUSES = {"published", "transferred"}


class CoopMode(Labeled):
    """Cooperation modes an enterprise wants for a problem."""

    development = ("development", "技术开发")
    transfer = ("transfer", "技术转让")
    license = ("license", "技术许可")
    consulting = ("consulting", "技术咨询")
    service = ("service", "技术服务")
    joint_rd = ("joint_rd", "合作开发", "合作研发")
    equity = ("equity", "作价投资", "作价入股")


class TransferMode(Labeled):
    """Transfer modes an achievement's owner offers."""

    transfer = ("transfer", "技术转让", "转让")
    license = ("license", "技术许可", "许可")
    equity = ("equity", "作价投资")
    joint_development = ("joint_development", "合作开发")
    service = ("service", "技术服务")


class Maturity(Labeled):
    lab = ("lab", "实验室")
    small_pilot = ("small_pilot", "小试")
    pilot = ("pilot", "中试")
    industrial = ("industrial", "产业化")


MATURITY_ORDER = {"lab": 0, "small_pilot": 1, "pilot": 2, "industrial": 3}


# TRL ranges consistent with each maturity stage.
MATURITY_TRL = {"lab": (1, 4), "small_pilot": (3, 6), "pilot": (5, 7), "industrial": (7, 9)}
