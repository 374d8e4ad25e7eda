"""The analyzer and the query parser, without a database."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hub.search.analysis import ngram_tokens, query_pieces, word_tokens
from hub.search.highlight import snippet
from hub.search.query import QuerySyntaxError, TextTerm, parse_query

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _terms(text: str) -> list[str]:
    return [t.term for t in word_tokens(text)]


def test_chinese_is_segmented_and_latin_stemmed() -> None:
    assert {"客户", "订单", "发货"} <= set(_terms("客户的订单已发货"))
    assert _terms("Orders ordered ORDERING") == ["order", "order", "order"]


def test_full_width_folds_and_skus_stay_whole() -> None:
    assert _terms("ＳＯ－１００１ TEA-500G") == ["so-1001", "tea-500g"]
    # Hyphenated words without digits are ordinary words.
    assert _terms("e-mail") == ["e", "mail"]


def test_offsets_point_into_the_original_text() -> None:
    text = "发货：ＳＯ－１００１ ok"
    sku = next(t for t in word_tokens(text) if t.term == "so-1001")
    assert text[sku.start : sku.end] == "ＳＯ－１００１"


def test_cjk_ngrams_have_unigrams_and_bigrams_at_first_char_position() -> None:
    assert list(ngram_tokens("龙井茶")) == [("龙", 0), ("龙井", 0), ("井", 1), ("井茶", 1), ("茶", 2)]


def test_query_pieces_split_scripts() -> None:
    pieces = query_pieces("订单 SO-1001 Orders")
    assert pieces[0].cjk_run == "订单" and pieces[1].terms == ("so-1001",) and pieces[2].terms == ("order",)


def test_snippet_escapes_html_and_marks_matches() -> None:
    out = snippet("<b>客户</b>的订单 Orders shipped", [TextTerm("订单"), TextTerm("order")])
    assert out == "&lt;b&gt;客户&lt;/b&gt;的<mark>订单</mark> <mark>Orders</mark> shipped"
    assert "<mark>" not in snippet("nothing here", [TextTerm("x", negated=True)])


def test_snippet_window_around_a_late_match() -> None:
    text = "开头" * 100 + "龙井茶" + "结尾" * 100
    out = snippet(text, [TextTerm("茶")])
    assert out.startswith("…") and out.endswith("…") and "<mark>茶</mark>" in out and len(out) < 200


def test_parse_operators_and_dates_in_user_time_zone() -> None:
    parsed = parse_query(
        '订单 "next week" -cancel from:@张三 in:#销售 has:file is:thread mentions:@me on:2026-05-01', SHANGHAI
    )
    assert [(t.text, t.phrase, t.negated) for t in parsed.terms] == [
        ("订单", False, False),
        ("next week", True, False),
        ("cancel", False, True),
    ]
    assert parsed.senders == ["张三"] and parsed.channels == ["销售"] and parsed.mentions == ["me"]
    assert parsed.has == {"file"} and parsed.is_thread
    assert parsed.since == datetime(2026, 5, 1, tzinfo=SHANGHAI)
    assert parsed.until == datetime(2026, 5, 2, tzinfo=SHANGHAI)


def test_after_and_before_are_exclusive_days() -> None:
    parsed = parse_query("after:2026-05-01 before:2026-05-05 x", ZoneInfo("UTC"))
    assert parsed.since == datetime(2026, 5, 2, tzinfo=ZoneInfo("UTC"))
    assert parsed.until == datetime(2026, 5, 5, tzinfo=ZoneInfo("UTC"))


def test_relative_and_chinese_dates() -> None:
    now = datetime(2026, 5, 10, 12, tzinfo=SHANGHAI)
    assert parse_query("on:昨天", SHANGHAI, now=now).since == datetime(2026, 5, 9, tzinfo=SHANGHAI)
    assert parse_query("on:2026年5月3日", SHANGHAI, now=now).since == datetime(2026, 5, 3, tzinfo=SHANGHAI)


def test_full_width_operators_and_quotes() -> None:
    parsed = parse_query("ｆｒｏｍ：＠张三 “龙井 茶”", SHANGHAI)
    assert parsed.senders == ["张三"] and parsed.terms == [TextTerm("龙井 茶", phrase=True)]


def test_colons_inside_quotes_and_urls_are_text() -> None:
    assert parse_query('"note: hi"', SHANGHAI).terms == [TextTerm("note: hi", phrase=True)]
    assert parse_query("https://example.com", SHANGHAI).terms == [TextTerm("https://example.com")]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"unbalanced', "unbalanced quotes"),
        ("订单 color:red", "unknown operator color:"),
        ("before:2026-02-30", "bad date"),
        ("on:soon", "bad date"),
        ("has:picture", "has:picture is unknown"),
        ("is:open", "is:open is unknown"),
        ("-only", "cannot only exclude"),
        ("   ", "empty"),
        ("-before:2026-05-01 y", "cannot be excluded"),
        ("-from:@x", "cannot only exclude"),
        ("-has:picture y", "has:picture is unknown"),
        ("from:", "needs a value"),
        ("after:2026-05-05 before:2026-05-01", "date range is empty"),
        ("x" * 600, "longer than"),
    ],
)
def test_bad_queries_explain_themselves(query: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query, SHANGHAI)
    assert message in info.value.message
    assert info.value.status == 400 and info.value.code == "invalid_query"
