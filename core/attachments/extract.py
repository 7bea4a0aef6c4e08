"""Text extraction from documents (PDF, DOCX, XLSX, plain text). Used for uploads,
crawled attachments and imports. Raises ExtractionError with a Chinese reason."""
from __future__ import annotations

import io
import re
import zipfile

import charset_normalizer


class ExtractionError(ValueError):
    pass


PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEXT = "text/plain"

EXTENSIONS = {".pdf": PDF, ".docx": DOCX, ".xlsx": XLSX, ".txt": TEXT}


def sniff(data: bytes, filename: str = "") -> str:
    """Content type from the bytes themselves (magic numbers), not the name alone."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            raise ExtractionError("文件已损坏（无效的压缩包）") from None
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
        raise ExtractionError("不支持的文档类型（仅支持 PDF、DOCX、XLSX、TXT）")
    if filename.lower().endswith(".txt") or b"\x00" not in data[:4096]:
        return TEXT
    raise ExtractionError("不支持的文件类型（仅支持 PDF、DOCX、XLSX、TXT）")


def _clean(text: str) -> str:
    text = text.replace("\x00", "")
    text = re.sub(r"[ \t\u3000]+", " ", text)
    text = re.sub(r"\n\s*\n+", "\n", text)
    return text.strip()


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception:  # noqa: BLE001
                raise ExtractionError("PDF 已加密，无法读取") from None
        return "\n".join((page.extract_text() or "") for page in reader.pages)
    except PdfReadError as e:
        raise ExtractionError(f"PDF 无法读取：{e}") from None


def docx_text(data: bytes) -> str:
    import docx

    try:
        d = docx.Document(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 - python-docx raises several types
        raise ExtractionError(f"DOCX 无法读取：{e}") from None
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            parts.append(" ".join(c.text for c in row.cells))
    return "\n".join(parts)


def xlsx_text(data: bytes) -> str:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001
        raise ExtractionError(f"XLSX 无法读取：{e}") from None
    lines = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            cells = [str(c) for c in row if c is not None]
            if cells:
                lines.append(" ".join(cells))
    return "\n".join(lines)


def decode_text(data: bytes) -> str:
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise ExtractionError("无法识别文本编码")
    return str(best)


def extract_text(data: bytes, filename: str = "") -> tuple[str, str]:
    """Return (content_type, text)."""
    ctype = sniff(data, filename)
    if ctype == PDF:
        text = pdf_text(data)
    elif ctype == DOCX:
        text = docx_text(data)
    elif ctype == XLSX:
        text = xlsx_text(data)
    else:
        text = decode_text(data)
    return ctype, _clean(text)
