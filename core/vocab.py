"""Controlled vocabularies. Stored values are English codes; users see the Chinese labels."""
from __future__ import annotations

from enum import StrEnum


class Labeled(StrEnum):
    """A StrEnum whose members carry a Chinese label: ``Member = ("code", "标签")``."""

    def __new__(cls, value: str, label: str = "", *aliases: str):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label or value
        obj.aliases = aliases   # other names accepted on input (older labels), never shown
        return obj

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]

    @classmethod
    def label_of(cls, value, default=None) -> str | None:
        """The Chinese label of a stored code; ``default`` for None/'' (an unknown code shows as
        itself, so that old rows never break a page)."""
        if value is None or value == "":
            return default
        try:
            return cls(value).label
        except ValueError:
            return str(value)

    @classmethod
    def labels_of(cls, values, sep: str = "、") -> str:
        return sep.join(cls.label_of(v) for v in values or [])

    @classmethod
    def from_label(cls, text: str):
        text = (text or "").strip()
        for m in cls:
            if text in (m.value, m.label) or text in m.aliases:
                return m
        raise ValueError(text)


class OrgKind(Labeled):
    enterprise = ("enterprise", "企业")
    university = ("university", "高校")
    institute = ("institute", "科研院所")
    broker_agency = ("broker_agency", "技术转移机构")
    bureau = ("bureau", "科技局")


class Role(Labeled):
    enterprise = ("enterprise", "企业用户")
    university = ("university", "高校院所用户")
    broker = ("broker", "技术经纪人")
    bureau = ("bureau", "科技局")
    admin = ("admin", "系统管理员")


# Which organization kinds a role may belong to.
ROLE_ORG_KINDS: dict[Role, set[OrgKind]] = {
    Role.enterprise: {OrgKind.enterprise},
    Role.university: {OrgKind.university, OrgKind.institute},
    Role.broker: {OrgKind.broker_agency},
    Role.bureau: {OrgKind.bureau},
    Role.admin: set(OrgKind),
}


class UserStatus(Labeled):
    pending = ("pending", "待审核")
    approved = ("approved", "已通过")
    rejected = ("rejected", "已驳回")


class PatentType(Labeled):
    invention = ("invention", "发明专利")
    utility_model = ("utility_model", "实用新型")
    design = ("design", "外观设计")
    software_copyright = ("software_copyright", "软件著作权")
    other = ("other", "其他")


FIELDS: tuple[str, ...] = (
    "新能源", "新材料", "装备制造", "现代农业", "食品加工",
    "生物医药", "电子信息", "节能环保", "化工", "纺织", "其他",
)
