from __future__ import annotations

from marconi.text.cost import analyze
from marconi.text.gsm7 import is_gsm7
from marconi.text.smart import SMART_REPLACEMENTS, smarten


def test_replacements_are_gsm_and_reported_once_in_order() -> None:
    text, applied = smarten("“It’s” — fine… ‘yes’ “again”")
    assert text == '"It\'s" - fine... \'yes\' "again"'
    assert applied == (("“", '"'), ("’", "'"), ("”", '"'), ("—", "-"), ("…", "..."), ("‘", "'"))


def test_every_replacement_is_gsm7() -> None:
    assert all(is_gsm7(replacement) for replacement in SMART_REPLACEMENTS.values())
    assert not any(is_gsm7(original) for original in SMART_REPLACEMENTS)


def test_spaces_and_invisible_characters() -> None:
    text, applied = smarten("a\u00a0b\u200bc\td\u202fe\ufeff")
    assert text == "a bc d e"
    assert [original for original, _ in applied] == ["\u00a0", "\u200b", "\t", "\u202f", "\ufeff"]


def test_plain_text_is_untouched() -> None:
    assert smarten("hello") == ("hello", ())
    assert smarten("Şeker") == ("Şeker", ())


def test_smart_encoding_is_used_only_when_the_result_is_all_gsm() -> None:
    fixed = analyze("“Hello” — world", smart_encoding=True)
    assert fixed.encoding == "gsm7"
    assert fixed.replacements == (("“", '"'), ("”", '"'), ("—", "-"))
    assert fixed.non_gsm_characters == ()
    assert fixed.units == len('"Hello" - world')

    still_ucs2 = analyze("“Hello” 😀", smart_encoding=True)
    assert still_ucs2.encoding == "ucs2"
    assert still_ucs2.replacements == ()
    assert still_ucs2.non_gsm_characters == ("“", "”", "😀")


def test_smart_encoding_is_off_by_default() -> None:
    analysis = analyze("“Hello”")
    assert analysis.encoding == "ucs2"
    assert analysis.replacements == ()


def test_an_ellipsis_grows_the_text() -> None:
    analysis = analyze("…" * 60, smart_encoding=True)
    assert analysis.units == 180
    assert analysis.segments == 2
