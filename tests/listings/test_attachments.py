import io

from core.models import Attachment
from tests.conftest import auth_headers


def _pdf(text_lines: list[str]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("STSong-Light", 12)
    for i, line in enumerate(text_lines):
        c.drawString(72, 800 - 20 * i, line)
    c.save()
    return buf.getvalue()


def _docx(text: str) -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_upload_extracts_text_and_download_respects_visibility(client, factory, db):
    uni = factory.user("university")
    other = factory.user("enterprise")
    a = factory.achievement(uni, publish=False)
    h = auth_headers(client, uni)
    pdf = _pdf(["秸秆生物质颗粒燃料成型技术", "成型密度 1.2 g/cm3"])
    r = client.post(f"/api/achievements/{a.id}/attachments", headers=h,
                    files={"file": ("技术说明.pdf", pdf, "application/pdf")})
    assert r.status_code == 201, r.text
    att = db.get(Attachment, r.json()["id"])
    assert "秸秆生物质颗粒燃料" in att.extracted_text
    r = client.post(f"/api/achievements/{a.id}/attachments", headers=h,
                    files={"file": ("说明.docx", _docx("纳米纤维素增强复合材料"), "application/octet-stream")})
    assert r.status_code == 201 and r.json()["content_type"].endswith("wordprocessingml.document")
    # The draft's attachment is hidden from another organization; visible once published.
    ho = auth_headers(client, other)
    assert client.get(f"/api/attachments/{att.id}", headers=ho).status_code == 404
    client.post(f"/api/achievements/{a.id}/publish", headers=h)
    r = client.get(f"/api/attachments/{att.id}", headers=ho)
    assert r.status_code == 200 and r.content == pdf
    # Only the owner uploads.
    r = client.post(f"/api/achievements/{a.id}/attachments", headers=ho,
                    files={"file": ("x.pdf", pdf, "application/pdf")})
    assert r.status_code == 403


def test_bad_files_refused_and_nothing_left_behind(client, factory, db, settings):
    uni = factory.user("university")
    a = factory.achievement(uni)
    h = auth_headers(client, uni)
    for name, data, text in [("empty.pdf", b"", "文件为空"),
                             ("broken.pdf", b"%PDF-1.4 garbage", "PDF"),
                             ("x.zip", b"PK\x03\x04garbage", "损坏"),
                             ("bin.exe", b"MZ\x00\x00\x01\x02", "不支持")]:
        r = client.post(f"/api/achievements/{a.id}/attachments", headers=h,
                        files={"file": (name, data, "application/octet-stream")})
        assert r.status_code == 422, (name, r.text)
        assert text in r.json()["error"]["message"], (name, r.json())
    assert db.query(Attachment).count() == 0
    files = list((settings.data_dir / "attachments").rglob("*.*"))
    assert files == []
