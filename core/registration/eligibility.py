"""What a registered contract tells the parties (参考, never legal advice): VAT exemption, corporate
income-tax relief on 技术转让所得, and 就地转化 (the buyer in the seller's county/city/province).

Pure functions over plain values; ``for_contract`` builds the inputs from a contract and its application.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from core import regions
from core.registration.vocab import CIT_IP_OBJECTS, IpObject

DISCLAIMER = "以下为参考信息，不构成税务或法律意见；以主管税务机关认定为准。"

VAT_BASIS = ("《财政部 国家税务总局关于全面推开营业税改征增值税试点的通知》（财税〔2016〕36号）附件3 第一条第（二十六）项："
             "纳税人提供技术转让、技术开发和与之相关的技术咨询、技术服务免征增值税；合同须经技术合同登记机构认定登记。")
CIT_BASIS = ("《企业所得税法》第二十七条第（四）项、《实施条例》第九十条：居民企业一个纳税年度内技术转让所得不超过500万元的部分免征、"
             "超过部分减半征收；范围见财税〔2010〕111号（专利技术、计算机软件著作权、集成电路布图设计权、植物新品种、"
             "生物医药新品种，转让所有权或5年以上许可使用权）与财税〔2015〕116号；100%直接或间接关联方之间的转让不享受。")
LOCAL_BASIS = "买方与卖方在同一县（区）、市或省，计为就地转化（按卖方所在地汇总，与“输出”相同口径）。"

VAT_TYPES = ("transfer", "license", "development")  # 技术转让 (incl. 许可) and 技术开发
ANCILLARY_TYPES = ("consulting", "service")
IP_FROM_PATENT_TYPE = {"invention": "patent", "utility_model": "patent", "design": "patent",
                       "software_copyright": "software_copyright"}


@dataclass(frozen=True)
class Flag:
    eligible: bool | None  # None: cannot be judged from what was declared
    label: str
    reason: str
    basis: str

    def as_dict(self) -> dict:
        return asdict(self)


def vat(contract_type: str, related_type: str | None = None) -> Flag:
    """``related_type``: for 咨询/服务, the type of the registered contract it belongs to, if any."""
    if contract_type in VAT_TYPES:
        return Flag(True, "可享受（参考）", "技术转让、技术许可、技术开发合同收入", VAT_BASIS)
    if contract_type in ANCILLARY_TYPES:
        if related_type in VAT_TYPES:
            return Flag(True, "可享受（参考）", "与技术转让或技术开发合同相关的技术咨询、技术服务", VAT_BASIS)
        return Flag(False, "不适用", "独立的技术咨询、技术服务合同不在免征范围内", VAT_BASIS)
    return Flag(None, "无法判断", "合同类型不明", VAT_BASIS)


def cit(contract_type: str, ip_object: str | None, license_years: int | None,
        common_control: bool | None) -> Flag:
    if contract_type not in ("transfer", "license"):
        return Flag(False, "不适用", "仅技术转让（所有权或5年以上许可）所得适用", CIT_BASIS)
    if common_control:
        return Flag(False, "不适用", "双方为100%直接或间接控制的关联方", CIT_BASIS)
    if ip_object is None:
        return Flag(None, "无法判断", "未申报转让或许可的技术类别", CIT_BASIS)
    if ip_object not in CIT_IP_OBJECTS:
        return Flag(False, "不适用", f"“{IpObject(ip_object).label}”不在技术转让所得优惠范围内", CIT_BASIS)
    what = IpObject(ip_object).label
    if contract_type == "license":
        if license_years is None:
            return Flag(None, "无法判断", "未申报许可期限", CIT_BASIS)
        if license_years < 5:
            return Flag(False, "不适用", f"许可期限{license_years}年，不足5年", CIT_BASIS)
        return Flag(True if common_control is False else None,
                    "可享受（参考）" if common_control is False else "无法判断",
                    f"{what}许可使用权，期限{license_years}年" + ("" if common_control is False else "；未申报关联关系"),
                    CIT_BASIS)
    return Flag(True if common_control is False else None,
                "可享受（参考）" if common_control is False else "无法判断",
                f"{what}所有权转让" + ("" if common_control is False else "；未申报关联关系"), CIT_BASIS)


LOCAL_LEVELS = {"county": "本县（区）", "city": "本市", "province": "本省"}


def local_level(seller_region: str, buyer_region: str) -> str | None:
    """'county', 'city', 'province' (the narrowest shared one) or None (outside the province)."""
    if not seller_region or not buyer_region:
        return None
    if seller_region == buyer_region and regions.level(seller_region) == "county":
        return "county"
    if regions.city_of(seller_region) == regions.city_of(buyer_region):
        return "city"
    if regions.province_of(seller_region) == regions.province_of(buyer_region):
        return "province"
    return None


def local(seller_region: str, buyer_region: str) -> Flag:
    lv = local_level(seller_region, buyer_region)
    if lv is None:
        return Flag(False, "否", "买方不在卖方所在省", LOCAL_BASIS)
    return Flag(True, f"是（{LOCAL_LEVELS[lv]}）", f"买方在卖方所在{LOCAL_LEVELS[lv][1:]}", LOCAL_BASIS)


def for_values(contract_type: str, *, related_type: str | None, ip_object: str | None,
               license_years: int | None, common_control: bool | None, seller_region: str,
               buyer_region: str) -> dict:
    return {"disclaimer": DISCLAIMER, "vat": vat(contract_type, related_type).as_dict(),
            "cit": cit(contract_type, ip_object, license_years, common_control).as_dict(),
            "local": local(seller_region, buyer_region).as_dict()}


def license_years_of(valid_from, valid_to) -> int | None:
    """Whole years of a term; the term includes ``valid_to`` (2026-01-01 … 2030-12-31 is 5 years)."""
    if valid_from is None or valid_to is None:
        return None
    end = valid_to + timedelta(days=1)
    return end.year - valid_from.year - ((end.month, end.day) < (valid_from.month, valid_from.day))
