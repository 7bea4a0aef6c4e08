"""The registration certificate (技术合同登记证明) as a PDF, with reportlab's built-in CJK CID font
(STSong-Light: no font file needed)."""
from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from core import regions
from core.money import format_wan

FONT = "STSong-Light"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def render(*, reg_number: str, project_name: str, type_label: str, seller: str, seller_region: str,
           buyer: str, buyer_region: str, total_amount, tech_amount, registered_on, office: str) -> bytes:
    font = _font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle(f"技术合同登记证明 {reg_number}")
    c.setAuthor(office)
    w, h = A4
    c.setFont(font, 22)
    c.drawCentredString(w / 2, h - 40 * mm, "技术合同登记证明")
    rows = [
        ("登记号", reg_number),
        ("项目名称", project_name),
        ("合同类型", type_label),
        ("卖方", f"{seller}（{regions.full_name(seller_region)}）"),
        ("买方", f"{buyer}（{regions.full_name(buyer_region)}）"),
        ("合同成交额", f"{format_wan(total_amount, 6)}（{total_amount} 元）"),
        ("核定技术交易额", f"{format_wan(tech_amount, 6)}（{tech_amount} 元）"),
        ("登记日期", f"{registered_on.year}年{registered_on.month}月{registered_on.day}日"),
        ("登记机构", office),
    ]
    y = h - 65 * mm
    for label, value in rows:
        c.setFont(font, 12)
        c.drawString(30 * mm, y, f"{label}：")
        c.drawString(62 * mm, y, str(value)[:60])
        y -= 11 * mm
    c.setFont(font, 9)
    c.drawString(30 * mm, 30 * mm, "本证明依据《技术合同认定登记管理办法》出具，可凭登记号在平台核验。")
    c.showPage()
    c.save()
    return buf.getvalue()
