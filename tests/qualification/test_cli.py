"""``techmatch qualify``: exact input/output formats, bad lines named by line and field."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from core.qualification.cli import run
from tests.qualification.profiles import raw

ROOT = Path(__file__).resolve().parents[2]

ISSUE_EXAMPLE = raw(id="e1", tech_staff=25, ip_class1=0, ip_class2=2,
                    rd_expense={"2023": "150.00", "2024": "170.00", "2025": "180.00"},
                    rd_expense_domestic={"2023": "150.00", "2024": "170.00", "2025": "180.00"},
                    conversions={"2023": 2, "2024": 1, "2025": 3})


def _run(lines: list[str], explain: bool = False):
    out, err = io.StringIO(), io.StringIO()
    code = run(io.StringIO("\n".join(lines) + "\n"), out, err, explain=explain)
    return code, [json.loads(x) for x in out.getvalue().splitlines()], err.getvalue()


def test_output_format_is_exactly_the_issue_s():
    code, rows, err = _run([json.dumps(ISSUE_EXAMPLE, ensure_ascii=False)])
    assert code == 0 and err == ""
    (r,) = rows
    assert set(r) == {"id", "sme", "hnte"} and r["id"] == "e1"
    assert set(r["sme"]) == {"eligible", "route", "score", "parts", "failed"}
    assert set(r["sme"]["parts"]) == {"tech_staff", "rd", "ip"}
    assert r["sme"] == {"eligible": False, "route": None, "score": 58,
                        "parts": {"tech_staff": 16, "rd": 30, "ip": 12}, "failed": ["score_below_60"]}
    assert set(r["hnte"]) == {"meets_thresholds", "failed", "rd_ratio", "required_rd_ratio",
                              "innovation_estimate"}
    assert r["hnte"]["rd_ratio"] == "0.0463" and r["hnte"]["required_rd_ratio"] == "0.05"
    assert r["hnte"]["failed"] == ["rd_ratio_below"] and r["hnte"]["meets_thresholds"] is False
    est = r["hnte"]["innovation_estimate"]
    assert set(est) == {"low", "high"} and 0 <= est["low"] < est["high"] <= 100


def test_bad_lines_are_named_and_the_others_still_assessed():
    bad_amount = raw(id="bad-amount", sales={"2023": "3200", "2024": "abc", "2025": "4000"})
    missing_year = raw(id="missing-year", rd_expense={"2023": "1", "2025": "1"})
    float_amount = json.dumps(raw(id="float")).replace('"5200.00"', "5200.001")  # 6 places: ok exact
    lines = [json.dumps(ISSUE_EXAMPLE), "{not json", json.dumps(bad_amount), "", json.dumps(missing_year),
             json.dumps(raw(id="neg-staff", tech_staff=-1)), float_amount, "[1, 2]"]
    code, rows, err = _run(lines)
    assert code == 1
    assert [r.get("id") for r in rows] == ["e1", None, "bad-amount", "missing-year", "neg-staff", "float", None]
    assert "sme" in rows[0] and "sme" in rows[5]
    assert rows[1]["line"] == 2 and "JSON 格式错误" in rows[1]["error"]["message"]
    assert rows[2]["line"] == 3 and rows[2]["error"]["field"] == "sales.2024"
    assert "销售收入（2024 年）" in rows[2]["error"]["message"]
    assert rows[3]["line"] == 5 and rows[3]["error"]["field"] == "rd_expense.2024"
    assert "缺少 2024 年" in rows[3]["error"]["message"]
    assert rows[4]["error"]["field"] == "tech_staff" and "不能小于 0" in rows[4]["error"]["message"]
    assert rows[6]["line"] == 8 and "JSON 对象" in rows[6]["error"]["message"]
    assert "第 3 行（bad-amount）" in err and "[字段 sales.2024]" in err


def test_amounts_finer_than_fen_are_refused():
    code, rows, _ = _run([json.dumps(raw(id="x", total_assets="5200.0000001"))])
    assert code == 1 and rows[0]["error"]["field"] == "total_assets"


def test_explain_adds_chinese_gaps_and_legal_basis():
    _, rows, _ = _run([json.dumps(ISSUE_EXAMPLE)], explain=True)
    h = rows[0]["hnte"]
    assert h["ruleset"] == "国科发火〔2016〕32号" and rows[0]["sme"]["ruleset"] == "国科发政〔2017〕115号"
    assert any("近三年再投入约 40 万元即可达标" in g["message"] for g in h["gaps"])


def test_the_techmatch_command(tmp_path):
    f = tmp_path / "profiles.jsonl"
    f.write_text(json.dumps(ISSUE_EXAMPLE, ensure_ascii=False) + "\n" + '{"id": "x"}\n', encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "core.cli", "qualify", "--profiles", str(f)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin"})
    assert p.returncode == 1, p.stderr
    first, second = [json.loads(x) for x in p.stdout.splitlines()]
    assert first["id"] == "e1" and first["hnte"]["rd_ratio"] == "0.0463"
    assert second["line"] == 2 and second["id"] == "x" and second["error"]["field"]


def test_numeric_ids_are_echoed():
    code, rows, _ = _run([json.dumps(raw(id=7))])
    assert code == 0 and rows[0]["id"] == 7
