"""Seed a fresh data dir for the browser tests: migrate, then a few users and listings.

Run as ``python -m tests.browser.seed`` with TECHMATCH_DATA_DIR set; prints JSON
{role: {"email", "password", "id"}, "achievements": [ids]} on the last line.
"""
from __future__ import annotations

import json
import sys

PASSWORD = "copper-lantern-42"


def main() -> None:
    from core import migrate
    from core.accounts import service as accounts
    from core.accounts.schemas import OrganizationIn, UserCreate
    from core.db import session_scope
    from core.listings import service as listings
    from core.listings.schemas import AchievementIn
    from tests.conftest import make_credit_code
    from tests.web.fixtures import ACHIEVEMENTS

    migrate.upgrade("head")
    out: dict = {}
    with session_scope() as s:
        def org(kind, region, name, seed):
            return accounts.create_org(s, None, OrganizationIn(kind=kind, name=name, region=region,
                                                               credit_code=make_credit_code(seed, region)))

        def user(role, o, email, name, key=None):
            u = accounts.create_user(s, None, UserCreate(org_id=o.id, email=email, password=PASSWORD,
                                                         role=role, name=name))
            out[key or role] = {"email": email, "password": PASSWORD, "id": u.id, "org_id": o.id}
            return u

        user("enterprise", org("enterprise", "330421", "平湖锂想新能源有限公司", 101), "ent@example.com", "王经理")
        uni_org = org("university", "330106", "浙北理工大学", 102)
        uni = user("university", uni_org, "uni@example.com", "孙老师")
        food_org = org("institute", "320102", "江南食品研究院", 103)
        user("broker", org("broker_agency", "330400", "嘉兴技术转移中心", 104), "broker@example.com", "经纪人甲")
        # The province's bureau: its jurisdiction covers the 杭州 seller and the 嘉善 buyer of the
        # journeys' contract, and the province target (a city bureau sees only its own region).
        user("bureau", org("bureau", "330000", "浙江省科学技术厅", 105), "bureau@example.com", "科技局李科长")
        # 认定登记 journeys: a county bureau (the registration office) and a university in its county
        user("bureau", org("bureau", "330421", "嘉善县科学技术局", 106), "county@example.com", "县科技局赵科长",
             key="county_bureau")
        user("university", org("university", "330421", "嘉善理工学院", 107), "jsuni@example.com", "钱老师",
             key="county_university")
        s.flush()
        ids = []
        for a in ACHIEVEMENTS:
            data = AchievementIn(**a, publish=True, contact_name="孙老师", contact_phone="13900000000")
            obj = listings.create(s, None, "achievement", data,
                                  org_id=food_org.id if "保鲜" in a["title"] else uni_org.id, status="published")
            ids.append(obj.id)
        out["achievements"] = ids
        del uni
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
