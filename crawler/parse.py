"""HTML parsing with parsel (lxml): list pages, detail fields, garbage checks.

A selector in a source file is either a string or a mapping:

- ``"h1.title::text"`` — CSS (parsel pseudo-elements ``::text`` and ``::attr(x)`` work);
- ``"xpath://div[@id='c']//text()"`` — XPath;
- ``{label: "成熟度"}`` — the value next to a label, as Chinese sites lay out detail
  tables: ``<td>成熟度：</td><td>中试</td>`` or ``<p>成熟度：中试</p>``;
- mapping keys: ``css`` / ``xpath`` / ``label``, ``attr`` (an attribute instead of text),
  ``all`` (keep every match as a list), ``join`` (separator, default newline for text),
  ``regex`` (first group of the first match).
"""
from __future__ import annotations

import re
from urllib.parse import urljoin

from parsel import Selector

_WS = re.compile(r"[ \t\r\f\v\u3000\xa0]+")
_NL = re.compile(r"\n\s*\n+")


def clean_text(text: str) -> str:
    text = _WS.sub(" ", text or "")
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _NL.sub("\n", text).strip()


def document(html: str, url: str) -> Selector:
    return Selector(text=html or "<html></html>", base_url=url)


def _normalise_spec(spec) -> dict:
    if isinstance(spec, str):
        if spec.startswith("xpath:"):
            return {"xpath": spec[6:]}
        if spec.startswith("label:"):
            return {"label": spec[6:]}
        return {"css": spec}
    return dict(spec)


def _node_text(node) -> str:
    if isinstance(node.root, str):
        return node.root
    return " ".join(t for t in node.xpath(".//text()[not(ancestor::script) and not(ancestor::style)]").getall())


def _label_value(sel: Selector, label: str) -> str | None:
    """Text following a label: '<th>成熟度</th><td>中试</td>' or '成熟度：中试'."""
    lab = label.strip().rstrip(":：")
    # the innermost elements whose own text starts with the label
    nodes = sel.xpath(f"//body//*[not(self::script) and not(self::style)]"
                      f"[starts-with(normalize-space(text()), '{lab}')]")
    for node in nodes:
        own = clean_text(" ".join(node.xpath("./text()").getall()))
        rest = own[len(lab):].lstrip(" ：:").strip()
        if rest:
            return rest
        sib = node.xpath("following-sibling::*[1]")
        if sib:
            value = clean_text(_node_text(sib[0]))
            if value:
                return value
        # '<span>成熟度：</span>中试' — text right after the element
        tail = node.xpath("following-sibling::text()[1]").get()
        if tail and tail.strip(" ：:\n"):
            return clean_text(tail).lstrip("：:").strip()
    return None


def select(sel: Selector, spec) -> str | list[str] | None:
    """Apply a selector spec; strings are cleaned; None when nothing matches."""
    spec = _normalise_spec(spec)
    if "label" in spec:
        value = _label_value(sel, spec["label"])
        values = [value] if value else []
    else:
        nodes = sel.xpath(spec["xpath"]) if "xpath" in spec else sel.css(spec["css"])
        if spec.get("attr"):
            values = [n.attrib.get(spec["attr"], "") for n in nodes]
        else:
            values = [_node_text(n) for n in nodes]
        values = [clean_text(v) for v in values]
        values = [v for v in values if v]
    if spec.get("regex"):
        rx = re.compile(spec["regex"])
        out = []
        for v in values:
            m = rx.search(v)
            if m:
                out.append(m.group(1) if m.groups() else m.group(0))
        values = out
    if not values:
        return None
    if spec.get("all"):
        return values
    joiner = spec.get("join", "\n")
    return clean_text(joiner.join(values)) if len(values) > 1 else values[0]


def list_links(sel: Selector, items: str, link_spec, base_url: str) -> list[str]:
    out = []
    item_nodes = sel.xpath(items[6:]) if items.startswith("xpath:") else sel.css(items)
    spec = _normalise_spec(link_spec)
    for node in item_nodes:
        if "css" in spec and "::" not in spec["css"] and not spec.get("attr"):
            spec = {**spec, "attr": "href"}
        nodes = node.xpath(spec["xpath"]) if "xpath" in spec else node.css(spec["css"])
        for n in nodes[:1]:
            href = n.attrib.get(spec["attr"]) if spec.get("attr") else (
                n.root if isinstance(n.root, str) else n.attrib.get("href"))
            if href and not href.strip().lower().startswith(("javascript:", "mailto:", "#")):
                out.append(urljoin(base_url, href.strip()))
    return out


def next_links(sel: Selector, spec, base_url: str) -> list[str]:
    if not spec:
        return []
    s = _normalise_spec(spec)
    if "css" in s and "::" not in s["css"] and not s.get("attr"):
        s["attr"] = "href"
    if "xpath" not in s and "css" not in s:
        return []
    nodes = sel.xpath(s["xpath"]) if "xpath" in s else sel.css(s["css"])
    out = []
    for n in nodes:
        href = n.attrib.get(s["attr"]) if s.get("attr") else (n.root if isinstance(n.root, str) else None)
        if href:
            out.append(urljoin(base_url, href.strip()))
    return out


def attachment_links(sel: Selector, spec, base_url: str, extensions: list[str]) -> list[tuple[str, str]]:
    """[(absolute url, link text)] of links with an allowed extension."""
    s = _normalise_spec(spec)
    nodes = sel.xpath(s["xpath"]) if "xpath" in s else sel.css(s.get("css", "a"))
    out, seen = [], set()
    for n in nodes:
        if isinstance(n.root, str):
            href, text = n.root, ""
        else:
            href = n.attrib.get(s.get("attr") or "href")
            text = clean_text(_node_text(n))
        if not href:
            continue
        url = urljoin(base_url, href.strip())
        path = url.split("?", 1)[0].split("#", 1)[0].lower()
        if extensions and not any(path.endswith(e) for e in extensions):
            continue
        if url not in seen:
            seen.add(url)
            out.append((url, text))
    return out


def visible_text(sel: Selector, content: str | None = None) -> str:
    scope = sel
    if content:
        found = sel.xpath(content[6:]) if content.startswith("xpath:") else sel.css(content)
        if found:
            scope = found[0]
        else:
            return ""
    body = scope.xpath("//body") if scope is sel else [scope]
    node = body[0] if body else scope
    return clean_text(" ".join(node.xpath(".//text()[not(ancestor::script) and not(ancestor::style)]").getall()))


def has_password_input(sel: Selector) -> bool:
    return bool(sel.css("input[type=password], input[type=PASSWORD]"))


_MOJIBAKE = re.compile("[\ufffd\u00c0-\u00ff]")


def looks_garbled(text: str) -> bool:
    """Replacement characters or Latin-1 mojibake in a Chinese page."""
    if not text:
        return False
    bad = len(_MOJIBAKE.findall(text))
    return bad >= 5 and bad / max(len(text), 1) > 0.02
