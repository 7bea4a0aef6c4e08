"""Text extraction from documents (PDF, DOCX, XLSX, plain text). Used for uploads,
crawled attachments and imports. Raises ExtractionError with a Chinese reason."""
from __future__ import annotations

import io
import re
import zipfile

import charset_normalizer
import filetype
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml import ElementTree as defused_etree


class ExtractionError(ValueError):
    pass


PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEXT = "text/plain"
#: uncompressed / compressed size above which a part (over 1 MB) is taken for a zip bomb
MAX_ZIP_RATIO = 200

EXTENSIONS = {".pdf": PDF, ".docx": DOCX, ".xlsx": XLSX, ".txt": TEXT}


#: binary types recognised by their magic numbers that are zip containers (DOCX/XLSX are zips)
_ZIP_FAMILY = {"application/zip", DOCX, XLSX}
_MARKUP = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<script|<svg|<\?xml|<iframe|<object|<meta)", re.I)


def _limits():
    from core.settings import get_settings

    s = get_settings()
    return s.attachment_max_unzipped_bytes, s.attachment_max_text_chars, s.attachment_max_pdf_pages


def sniff(data: bytes, filename: str = "") -> str:
    """Content type from the bytes themselves (magic numbers, via ``filetype``), never from
    the name; a name whose extension says another type is refused (a ``.pdf`` holding HTML)."""
    guess = filetype.guess(data[:8192])
    mime = guess.mime if guess is not None else None
    if mime == PDF:
        ctype = PDF
    elif mime in _ZIP_FAMILY or data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            raise ExtractionError("文件已损坏（无效的压缩包）") from None
        if "word/document.xml" in names:
            ctype = DOCX
        elif "xl/workbook.xml" in names:
            ctype = XLSX
        else:
            raise ExtractionError("不支持的文档类型（仅支持 PDF、DOCX、XLSX、TXT）")
    elif mime is not None or b"\x00" in data[:4096]:
        raise ExtractionError("不支持的文件类型（仅支持 PDF、DOCX、XLSX、TXT）")
    elif _MARKUP.match(data[:1024].lstrip(b"\xef\xbb\xbf")):
        raise ExtractionError("文件内容是网页或标记文档（HTML/XML/SVG），不是支持的文档类型")
    else:
        ctype = TEXT
    ext = ("." + filename.rsplit(".", 1)[-1].lower()) if "." in (filename or "") else ""
    declared = EXTENSIONS.get(ext)
    if declared is not None and declared != ctype:
        label = {PDF: "PDF", DOCX: "DOCX", XLSX: "XLSX", TEXT: "纯文本"}[ctype]
        raise ExtractionError(f"文件内容与扩展名不符：扩展名为 {ext}，内容却是{label}")
    return ctype


def check_zip(data: bytes) -> None:
    """A DOCX/XLSX is a zip: refuse one that would expand past the limit (a zip bomb), whose
    parts compress suspiciously well, or whose XML parts declare a DTD or entities
    (checked with ``defusedxml``)."""
    max_bytes, _, _ = _limits()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except zipfile.BadZipFile:
        raise ExtractionError("文件已损坏（无效的压缩包）") from None
    total = sum(i.file_size for i in infos)
    if total > max_bytes or len(infos) > 10_000:
        raise ExtractionError(f"文档解压后过大（超过 {max_bytes // (1024 * 1024)} MB），已拒绝")
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > MAX_ZIP_RATIO * max(1, info.compress_size):
            raise ExtractionError("文档压缩比异常（疑似压缩炸弹），已拒绝")
    for info in infos:
        if not info.filename.endswith((".xml", ".rels")):
            continue
        try:
            # zipfile stops at the declared size, so what is read here is bounded by the check above
            defused_etree.fromstring(zf.read(info), forbid_dtd=True, forbid_entities=True,
                                     forbid_external=True)
        except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden):
            raise ExtractionError("文档包含不允许的 XML 结构（DTD 或实体声明），已拒绝") from None
        except (defused_etree.ParseError, zipfile.BadZipFile, EOFError, ValueError):
            raise ExtractionError("文件已损坏（无法解析的 XML 部件）") from None


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
        _, max_chars, max_pages = _limits()
        parts, size = [], 0
        for page in reader.pages[:max_pages]:  # a cap on pages: the rest is not read
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
            if size >= max_chars:
                break
        return "\n".join(parts)
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
    if ctype in (DOCX, XLSX):
        check_zip(data)
    if ctype == PDF:
        text = pdf_text(data)
    elif ctype == DOCX:
        text = docx_text(data)
    elif ctype == XLSX:
        text = xlsx_text(data)
    else:
        text = decode_text(data)
    _, max_chars, _ = _limits()
    return ctype, _clean(text)[:max_chars]  # a cap on the text kept (and indexed) per file
