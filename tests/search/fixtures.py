"""A small, hand-written set of listings for the search tests (tens of docs, short texts)."""
from __future__ import annotations

LISTINGS = [
    # kind, id, title, text, fields, region, maturity, modes, status, keywords
    ("achievement", 1, "高镍三元正极材料表面包覆改性技术",
     "通过原子层沉积氧化铝包覆，使高镍正极材料循环1000次容量保持率达到90%以上，适用于动力锂离子电池。",
     ["新能源"], "330106", "pilot", ["license"], "published", ["正极材料", "锂离子电池"]),
    ("achievement", 2, "退役动力电池梯次利用与回收技术",
     "对退役锂电池进行快速分选、重组和梯次利用，并湿法回收镍钴锰等有价金属，回收率超过98%。",
     ["新能源", "环保"], "320115", "industrial", ["transfer"], "published", ["电池回收"]),
    ("achievement", 3, "畜禽养殖废水厌氧处理与资源化技术",
     "采用高效厌氧反应器处理养殖废水，COD去除率达到85%，沼气用于发电，沼液经处理后还田。",
     ["环保", "农业"], "320506", "industrial", ["license", "transfer"], "published", ["废水处理"]),
    ("achievement", 4, "设施农业水肥一体化智能灌溉系统",
     "根据土壤墒情传感器数据自动控制滴灌和施肥，节水40%，节肥30%，适用于温室大棚蔬菜种植。",
     ["农业", "物联网"], "370281", "industrial", ["transfer"], "published", ["水肥一体化", "滴灌"]),
    ("achievement", 5, "基于深度学习的工业产品表面缺陷视觉检测",
     "利用卷积神经网络对金属、玻璃等产品表面划痕、凹坑进行实时识别，检测准确率99%，替代人工目检。",
     ["智能制造", "人工智能"], "440305", "pilot", ["license"], "published", ["机器视觉", "缺陷检测"]),
    ("achievement", 6, "石墨烯导热膜的低成本制备方法",
     "以氧化石墨烯为原料，经涂布、还原和压延制得导热系数超过1500W/mK的导热膜，用于手机散热。",
     ["新材料"], "320213", "small_pilot", ["license"], "published", ["石墨烯", "导热膜"]),
    ("achievement", 7, "钢结构激光焊接工艺及装备",
     "针对厚板钢结构开发窄间隙激光焊接工艺，焊接效率提高3倍，焊缝质量稳定。",
     ["智能制造"], "210211", "pilot", ["cooperation"], "published", ["激光焊接"]),
    ("achievement", 8, "重金属污染土壤的植物修复技术",
     "筛选镉、铅超富集植物，配合土壤调理剂，三年内使农田土壤重金属含量降至安全标准。",
     ["环保", "农业"], "430104", "pilot", ["cooperation"], "published", ["土壤修复", "重金属"]),
    ("achievement", 9, "草稿：新型钠离子电池负极材料",
     "硬碳负极材料首效达到90%，成本低于石墨负极。",
     ["新能源"], "330106", "lab", ["license"], "draft", ["钠离子电池"]),
    ("achievement", 10, "果蔬采后气调保鲜技术",
     "通过调节储藏环境中氧气和二氧化碳浓度，延长苹果、猕猴桃等水果的保鲜期两倍以上，减少腐烂损耗。",
     ["农业", "食品"], "610112", "industrial", ["transfer"], "published", ["保鲜", "冷链"]),
    ("problem", 101, "锂电池正极材料循环寿命不足",
     "我公司生产的三元正极材料循环500次后容量保持率低于80%，需要改性技术提高循环寿命。",
     ["新能源"], "330421", "pilot", ["development"], "published", ["正极材料"]),
    ("problem", 102, "印染企业污水处理成本高",
     "我厂每天产生印染污水2000吨，现有工艺处理成本高、色度难以达标，寻求低成本处理技术。",
     ["环保"], "330602", None, ["development", "cooperation"], "published", ["污水处理"]),
    ("problem", 103, "零件外观检查全靠人工，效率低",
     "汽车零部件出厂前需要检查外观瑕疵，目前靠工人肉眼看，漏检多、速度慢，希望用机器自动检查。",
     ["智能制造"], "320583", None, ["development"], "published", []),
    ("problem", 104, "待审核：大棚蔬菜浇水施肥费工",
     "合作社大棚蔬菜浇水施肥全靠人工，费时费力，用水量大。",
     ["农业"], "370281", None, ["development"], "pending_review", []),
]


def as_obj(row):
    """An object with the attributes of the ORM models (for listing_doc)."""
    from types import SimpleNamespace

    kind, lid, title, text, fields, region, maturity, modes, status, keywords = row
    common = dict(id=lid, title=title, fields=fields, region=region, status=status, keywords=keywords,
                  created_at=1_700_000_000 + lid * 86400, updated_at=None, org_id=1)
    if kind == "problem":
        return SimpleNamespace(**common, description=text, indicators="", conditions="",
                               coop_modes=modes, required_maturity=maturity)
    return SimpleNamespace(**common, abstract=text, body="", transfer_modes=modes, maturity=maturity)
