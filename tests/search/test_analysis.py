from __future__ import annotations

from indexes.analysis import highlight, normalize, snippet


def test_normalize_fullwidth_case_traditional():
    assert normalize("ＡＢＣ１２３") == "abc123"
    assert normalize("LiFePO4 电池") == "lifepo4 电池"
    assert normalize("鋰電池廢水處理") == "锂电池废水处理"
    assert normalize("") == "" and normalize(None) == ""


def test_search_mode_indexes_sub_words(analyzer):
    toks = analyzer.tokens("科技成果转化平台")
    assert "成果" in toks and "科技" in toks
    # the query side uses the same segmentation
    assert analyzer.query("成果").primary == ["成果"]


def test_user_dictionary_terms_are_single_tokens(analyzer):
    for term in ("锂离子电池", "正极材料", "水肥一体化", "石墨烯", "智能制造"):
        assert term in analyzer.tokens(f"关于{term}的研究")


def test_stopwords_and_punctuation_removed(analyzer):
    toks = analyzer.tokens("我们的问题是：如何进行污水处理？")
    assert "的" not in toks and "我们" not in toks and "：" not in toks and "？" not in toks
    assert "污水处理" in toks


def test_synonyms_expand_at_query_time(analyzer):
    groups = {g[0]: g for g in analyzer.query("锂电池 污水").groups}
    assert "锂离子电池" in groups["锂电池"]
    assert "废水" in groups["污水"]
    # not at index time
    assert "废水" not in analyzer.tokens("污水")


def test_traditional_query_matches_simplified(analyzer):
    assert analyzer.query("鋰離子電池").primary[0] in analyzer.tokens("锂离子电池")


def test_learned_words_persist(tmp_path):
    from indexes.analysis import Analyzer

    a = Analyzer(tmp_path)
    assert "钙钛矿叠层" not in a.tokens("钙钛矿叠层电池")
    a.learn_words(["钙钛矿叠层"])
    assert "钙钛矿叠层" in a.tokens("钙钛矿叠层电池")
    assert "钙钛矿叠层" in Analyzer(tmp_path).tokens("钙钛矿叠层电池")


def test_jieba_cache_in_data_dir(tmp_path):
    from indexes.analysis import Analyzer

    Analyzer(tmp_path / "jieba")
    assert any(p.name.startswith("jieba") for p in (tmp_path / "jieba").iterdir())


def test_highlight_escapes_and_marks():
    out = highlight("<b>锂离子电池</b>正极", ["锂离子电池", "正极"])
    assert out == "&lt;b&gt;<em>锂离子电池</em>&lt;/b&gt;<em>正极</em>"
    # matches on the normalised form, marks the original characters
    assert highlight("鋰電池回收", ["锂电池"]) == "<em>鋰電池</em>回收"
    assert highlight("ＡＢＣ材料", ["abc"]) == "<em>ＡＢＣ</em>材料"


def test_snippet_centres_on_matches():
    text = "无关内容。" * 40 + "本技术采用石墨烯导热膜。" + "其他内容。" * 40
    s = snippet(text, ["石墨烯"], width=60)
    assert "<em>石墨烯</em>" in s and s.startswith("…") and s.endswith("…")
