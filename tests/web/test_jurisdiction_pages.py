"""Pages follow the bureau's jurisdiction: the dashboard opens on the bureau's own region, the
home page names the region of its figures, and a county bureau is not offered (nor allowed) to
change a contract the city bureau registered."""
from __future__ import annotations

import re

from tests.contract_helpers import contract_data


def _kpi_title(html: str) -> str:
    m = re.search(r'<h2 id="kpi-title">(.*?)</h2>', html, re.S)
    assert m, html[:500]
    return re.sub(r"<[^>]+>", "", m.group(1))


def test_dashboard_home_and_contract_pages_follow_jurisdiction(client, db, factory, web_login, settings):
    from core import settings as settings_mod
    from core.contracts import service as contracts

    hn = factory.user("bureau", org=factory.org("bureau", region="330481", name="海宁市科学技术局"))
    c = contracts.register(db, None, contract_data(seller={"name": "海宁甲公司", "region": "330481",
                                                           "party_type": "enterprise"}))  # 嘉兴 registered
    db.commit()
    assert "全部地区" in _kpi_title(client.get("/").text)
    web_login(hn)
    assert "海宁市" in _kpi_title(client.get("/").text)
    r = client.get("/bureau/dashboard?year=2026")
    assert r.status_code == 200 and "海宁市" in re.search(r"<h1>(.*?)</h1>", r.text, re.S).group(1)
    r = client.get(f"/contracts/{c.id}")
    assert r.status_code == 200 and "变更登记" not in r.text and "终止合同" not in r.text
    assert client.get(f"/contracts/{c.id}/amend").status_code == 403
    assert client.get("/bureau/dashboard?year=2026&region=330100").status_code == 403
    client.cookies.clear()
    settings_mod.configure(data_dir=settings.data_dir, database_url=settings.database_url,
                           secret_key="test-secret", celery_broker_url=None, celery_eager=True, platform_region="330400")
    assert "嘉兴市" in _kpi_title(client.get("/").text)
