from __future__ import annotations

import json

import pytest

from marconi.errors import EncodingError
from marconi.text.cost import analyze
from marconi.text.grapheme import count_characters
from marconi.text.segment import Unit


def test_plain_gsm() -> None:
    analysis = analyze("Hello, world!")
    assert analysis.encoding == "gsm7"
    assert analysis.segments == 1
    assert analysis.characters == 13
    assert analysis.units == 13
    assert analysis.unit is Unit.SEPTET
    assert analysis.per_segment == 160
    assert analysis.remaining == 147
    assert analysis.non_gsm_characters == ()
    assert analysis.data_coding == 0


def test_extension_characters_cost_two_septets_but_count_as_one_character() -> None:
    analysis = analyze("€" * 10)
    assert analysis.characters == 10
    assert analysis.units == 20
    assert analysis.remaining == 140


def test_concatenated_remaining() -> None:
    analysis = analyze("a" * 161)
    assert analysis.segments == 2
    assert analysis.per_segment == 153
    assert analysis.remaining == 153 * 2 - 161


def test_remaining_accounts_for_a_moved_escape() -> None:
    analysis = analyze("a" * 152 + "€" + "b")
    assert analysis.units == 155
    assert analysis.segments == 1
    analysis = analyze("a" * 152 + "€" + "b" * 10)
    assert analysis.segments == 2
    assert analysis.remaining == 153 - 12


def test_ucs2_forced_by_characters_listed_once_in_order() -> None:
    analysis = analyze("Hi 😀 there ç 😀 “ok”")
    assert analysis.encoding == "ucs2"
    assert analysis.unit is Unit.UTF16
    assert analysis.non_gsm_characters == ("😀", "ç", "“", "”")
    assert analysis.units == len("Hi 😀 there ç 😀 “ok”") + 2
    assert analysis.characters == 19
    assert analysis.data_coding == 8
    assert analysis.remaining == 70 - analysis.units


def test_empty_text_is_one_segment() -> None:
    analysis = analyze("")
    assert (analysis.segments, analysis.units, analysis.remaining) == (1, 0, 160)


def test_explicit_gsm7_names_the_characters() -> None:
    with pytest.raises(EncodingError, match="'😀' \\(U\\+1F600\\)"):
        analyze("hi 😀", encoding="gsm7")


def test_the_json_form() -> None:
    data = analyze("Şeker “x”", smart_encoding=True).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert {"encoding", "segments", "characters", "remaining", "non_gsm_characters"} <= set(data)
    assert data["non_gsm_characters"] == ["Ş", "“", "”"]
    assert data["unit"] == "utf16"
    turkish = analyze("ş" * 100).to_dict()
    assert turkish["locking_shift"] == "turkish"
    assert turkish["single_shift"] is None


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("hello", 5),
        ("a\r\nb", 3),
        ("e\u0301", 1),
        ("👍🏽", 1),
        ("🇫🇷🇩🇪", 2),
        ("👨\u200d👩\u200d👧", 1),
        ("👨🏽\u200d💻", 1),
        ("❤️", 1),
        ("कि", 1),
        ("\u0301", 1),
        ("Привет", 6),
        ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", 1),
    ],
)
def test_characters_as_people_count_them(text: str, count: int) -> None:
    assert count_characters(text) == count
