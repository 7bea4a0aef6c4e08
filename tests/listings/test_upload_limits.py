"""Uploads: zip bombs, caps on text and PDF pages, the content type from the bytes."""
from __future__ import annotations

import io
import zipfile

import pytest

from core.errors import ValidationFailed
from core.models import Attachment
from tests.conftest import auth_headers
from tests.listings.test_attachments import _docx, _pdf


def _reconfigure(settings, **overrides):
    from core import settings as settings_mod

    settings_mod.configure(data_dir=settings.data_dir, database_url=settings.database_url,
                           secret_key="test-secret", celery_broker_url=None, celery_eager=True, **overrides)


def _rewrite_docx(data: bytes, document_xml: bytes, part: str = "word/document.xml") -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, document_xml if info.filename == part else src.read(info))
    return out.getvalue()


def _bomb_docx(chars: int) -> bytes:
    """A DOCX whose one paragraph is `chars` repeated characters: tiny compressed."""
    base = _docx("占位")
    xml = zipfile.ZipFile(io.BytesIO(base)).read("word/document.xml").decode()
    return _rewrite_docx(base, xml.replace("占位", "膨" * chars).encode())


@pytest.fixture
def listing(factory):
    uni = factory.user("university")
    return uni, factory.achievement(uni)


def _add(db, listing, name, data):
    from core.attachments import service as attachments

    uni, a = listing
    return attachments.add(db, uni, "achievement", a.id, name, data)


def test_zip_bomb_docx_refused(db, listing, settings):
    bomb = _bomb_docx(5_000_000)  # 15 MB of XML
    assert len(bomb) < 100_000
    with pytest.raises(ValidationFailed, match="压缩") as e:
        _add(db, listing, "说明.docx", bomb)
    assert e.value.field == "file"
    # a limit on the total decompressed size as well (here below the file's ~30 KB of parts)
    _reconfigure(settings, attachment_max_unzipped_bytes=20_000)
    with pytest.raises(ValidationFailed, match="解压后过大"):
        _add(db, listing, "说明.docx", _docx("正常的小文档"))
    assert db.query(Attachment).count() == 0


def test_xlsx_bomb_refused(db, listing):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = "占位"
    buf = io.BytesIO()
    wb.save(buf)
    part = "xl/worksheets/sheet1.xml"
    xml = zipfile.ZipFile(io.BytesIO(buf.getvalue())).read(part).decode()
    assert "&#21344;&#20301;" in xml
    bomb = _rewrite_docx(buf.getvalue(), xml.replace("&#21344;&#20301;", "膨" * 5_000_000).encode(), part)
    assert len(bomb) < 100_000
    with pytest.raises(ValidationFailed, match="压缩"):
        _add(db, listing, "表.xlsx", bomb)


def test_xml_with_dtd_refused(db, listing):
    base = _docx("占位")
    xml = zipfile.ZipFile(io.BytesIO(base)).read("word/document.xml").decode()
    evil = xml.replace("<?xml version='1.0' encoding='UTF-8' standalone='yes'?>",
                       '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">]>', 1)
    if evil == xml:  # python-docx's declaration uses double quotes in some versions
        evil = '<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">]>' + xml.split("?>", 1)[1]
    with pytest.raises(ValidationFailed, match="XML"):
        _add(db, listing, "说明.docx", _rewrite_docx(base, evil.encode()))


def test_text_capped_per_attachment(db, listing, settings):
    _reconfigure(settings, attachment_max_text_chars=1000)
    att = _add(db, listing, "长文.txt", ("秸秆颗粒燃料" * 2000).encode())
    assert len(att.extracted_text) == 1000
    att = _add(db, listing, "长文.docx", _docx("纳米纤维素" * 1000))
    assert len(att.extracted_text) == 1000


def test_pdf_pages_capped(db, listing, settings):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for word in ("第一页秸秆", "第二页颗粒", "第三页燃料"):
        c.setFont("STSong-Light", 12)
        c.drawString(72, 800, word)
        c.showPage()
    c.save()
    _reconfigure(settings, attachment_max_pdf_pages=2)
    att = _add(db, listing, "三页.pdf", buf.getvalue())
    assert "第一页秸秆" in att.extracted_text and "第二页颗粒" in att.extracted_text
    assert "第三页燃料" not in att.extracted_text


def test_content_type_from_the_bytes(client, db, factory, settings):
    uni = factory.user("university")
    a = factory.achievement(uni)
    h = auth_headers(client, uni)
    html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
    cases = [("报告.pdf", html, "网页"),
             ("报告.pdf", "技术说明：纯文本".encode(), "扩展名"),
             ("说明.txt", html, "网页"),
             ("说明.txt", b"  <svg onload=alert(1)>", "网页"),
             ("说明.docx", _pdf(["成果说明"]), "扩展名"),
             ("说明.pdf", _docx("成果说明"), "扩展名"),
             ("图片.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "不支持")]
    for name, data, message in cases:
        r = client.post(f"/api/achievements/{a.id}/attachments", headers=h,
                        files={"file": (name, data, "application/pdf")})
        assert r.status_code == 422, (name, r.text)
        assert message in r.json()["error"]["message"], (name, r.json())
    assert db.query(Attachment).count() == 0
    # the real thing passes, and is served with nosniff as a download
    r = client.post(f"/api/achievements/{a.id}/attachments", headers=h,
                    files={"file": ("报告.pdf", _pdf(["秸秆颗粒燃料"]), "application/pdf")})
    assert r.status_code == 201, r.text
    d = client.get(f"/api/attachments/{r.json()['id']}", headers=h)
    assert d.status_code == 200 and d.headers["content-type"] == "application/pdf"
    assert d.headers["X-Content-Type-Options"] == "nosniff"
    assert d.headers["content-disposition"].startswith("attachment")
