"""A few tiny listings with real text (shared by the page and browser tests)."""
from __future__ import annotations

from decimal import Decimal

ACHIEVEMENTS = [
    dict(title="高镍三元正极材料表面包覆改性技术", fields=["新能源"], region="330106",
         abstract="通过原子层沉积氧化铝包覆，使高镍三元正极材料循环 1000 次容量保持率达 90% 以上，抑制高温产气。",
         maturity="pilot", trl=6, transfer_modes=["license"], asking_price=Decimal("400000"),
         keywords=["正极材料", "包覆改性", "循环寿命"],
         patents=[{"number": "ZL202310000001.1", "type": "invention"}]),
    dict(title="三元正极材料体相掺杂改性延长电池循环寿命", fields=["新能源"], region="330106",
         abstract="采用铝镁共掺杂稳定三元正极材料晶格结构，电池循环 800 次容量保持率 88%，高温存储胀气明显减少。",
         maturity="pilot", trl=6, transfer_modes=["license", "transfer"], asking_price=Decimal("350000"),
         keywords=["正极材料", "掺杂改性", "循环寿命"],
         patents=[{"number": "ZL202210000002.X", "type": "invention"}]),
    dict(title="果蔬低温等离子体保鲜技术", fields=["食品加工"], region="320102",
         abstract="利用低温等离子体对果蔬表面杀菌，延长草莓、杨梅货架期 5 天以上，无化学残留。",
         maturity="small_pilot", trl=4, transfer_modes=["transfer"], asking_price=Decimal("300000"),
         keywords=["保鲜", "等离子体"]),
]

PROBLEM = dict(title="三元锂电池正极循环寿命短、高温胀气", fields=["新能源"], region="330421",
               description="我公司生产的三元正极材料做成电池后循环 500 次容量只剩不到 80%，夏天高温存放还会胀气，"
                           "希望找到正极材料包覆或掺杂改性的技术来延长循环寿命。",
               budget_min=Decimal("100000"), budget_max=Decimal("500000"), coop_modes=["license", "development"],
               required_maturity="pilot", contact_name="王经理", contact_phone="13800000000")
