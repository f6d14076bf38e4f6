from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import EncodingError
from marconi.text.cost import analyze
from marconi.text.gsm7 import DEFAULT_EXTENSION
from marconi.text.national import (
    LOCKING_SHIFT_TABLES,
    SINGLE_SHIFT_TABLES,
    NationalLanguage,
    decoding_charset,
    fitting_combinations,
    national_charset,
)

L = NationalLanguage


def test_every_language_has_a_single_shift_table_and_all_but_spanish_a_locking_one() -> None:
    assert set(SINGLE_SHIFT_TABLES) == set(L)
    assert set(LOCKING_SHIFT_TABLES) == set(L) - {L.SPANISH}
    for table in [*SINGLE_SHIFT_TABLES.values(), *LOCKING_SHIFT_TABLES.values()]:
        assert len(table) == 128
        assert table[0x1B] is None


def test_identifiers_follow_the_spec() -> None:
    assert [language.value for language in L] == list(range(1, 14))
    assert L.from_label("Turkish") is L.TURKISH
    with pytest.raises(ValueError, match="unknown national language"):
        L.from_label("klingon")


@pytest.mark.parametrize(
    ("locking", "single", "char", "septets"),
    [
        (L.TURKISH, None, "ş", b"\x1d"),
        (L.TURKISH, None, "Ş", b"\x1c"),
        (L.TURKISH, None, "ğ", b"\x0c"),
        (L.TURKISH, None, "Ğ", b"\x0b"),
        (L.TURKISH, None, "ı", b"\x07"),
        (L.TURKISH, None, "İ", b"\x40"),
        (L.TURKISH, None, "ç", b"\x60"),
        (L.TURKISH, None, "€", b"\x04"),
        (None, L.TURKISH, "ş", b"\x1b\x73"),
        (None, L.TURKISH, "Ş", b"\x1b\x53"),
        (None, L.TURKISH, "ç", b"\x1b\x63"),
        (None, L.TURKISH, "ğ", b"\x1b\x67"),
        (None, L.TURKISH, "İ", b"\x1b\x49"),
        (None, L.SPANISH, "á", b"\x1b\x61"),
        (None, L.SPANISH, "Ú", b"\x1b\x55"),
        (None, L.SPANISH, "ç", b"\x1b\x09"),
        (L.PORTUGUESE, None, "ê", b"\x04"),
        (L.PORTUGUESE, None, "õ", b"\x7c"),
        (L.PORTUGUESE, None, "`", b"\x7d"),
        (L.PORTUGUESE, None, "∞", b"\x15"),
        (None, L.PORTUGUESE, "Ô", b"\x1b\x0b"),
        (None, L.PORTUGUESE, "ã", b"\x1b\x7b"),
        (L.HINDI, None, "क", b"\x15"),
        (L.HINDI, None, "ॐ", b"\x60"),
        (None, L.HINDI, "।", b"\x1b\x19"),
        (L.BENGALI, None, "ক", b"\x15"),
        (L.TAMIL, None, "க", b"\x15"),
        (L.URDU, None, "ا", b"\x00"),
        (None, L.URDU, "؟", b"\x1b\x33"),
    ],
)
def test_spot_checks_from_annex_a(
    locking: L | None, single: L | None, char: str, septets: bytes
) -> None:
    charset = national_charset(locking, single)
    assert charset.encode(char) == septets
    assert charset.decode(septets) == char


INDIAN = [L.BENGALI, L.GUJARATI, L.HINDI, L.KANNADA, L.MALAYALAM, L.ORIYA, L.PUNJABI]
INDIAN += [L.TAMIL, L.TELUGU, L.URDU]


@pytest.mark.parametrize("language", INDIAN)
def test_indian_locking_tables_keep_the_comma_at_0x2c(language: L) -> None:
    assert LOCKING_SHIFT_TABLES[language][0x2C] == ","


def test_kannada_0x24_is_dda_not_a_second_pa() -> None:
    table = LOCKING_SHIFT_TABLES[L.KANNADA]
    assert table[0x24] == "\u0ca1"
    assert table.count("\u0caa") == 1


@pytest.mark.parametrize("language", list(L))
def test_every_single_shift_table_carries_the_default_extension_characters(language: L) -> None:
    table = SINGLE_SHIFT_TABLES[language]
    assert table[0x65] == "€"
    for code, char in enumerate(DEFAULT_EXTENSION):
        if char is not None:
            assert table[code] == char


def test_a_character_listed_twice_encodes_to_the_lower_code_and_decodes_from_both() -> None:
    charset = national_charset(L.BENGALI, L.BENGALI)
    assert charset.encode("¡") == b"\x1b\x13"
    assert charset.decode(b"\x1b\x15") == "¡"


def combinations() -> list[tuple[L | None, L | None]]:
    lockings: list[L | None] = [None, *LOCKING_SHIFT_TABLES]
    singles: list[L | None] = [None, *L]
    return [(lock, single) for lock in lockings for single in singles]


@pytest.mark.parametrize(("locking", "single"), combinations())
def test_every_character_of_every_combination_round_trips(
    locking: L | None, single: L | None
) -> None:
    charset = national_charset(locking, single)
    text = "".join(sorted(charset.characters))
    assert charset.decode(charset.encode(text)) == text
    assert charset.septet_count(text) == len(text) + sum(charset.is_escaped(char) for char in text)


def test_spanish_locking_falls_back_to_the_default_alphabet() -> None:
    assert national_charset(L.SPANISH, None).name == "gsm7"
    assert decoding_charset(2, None).name == "gsm7"
    assert decoding_charset(99, 1).name == "turkish-single"
    assert decoding_charset(3, 3).name == "portuguese-locking+portuguese-single"


def test_fitting_combinations_skip_needless_second_tables() -> None:
    found = fitting_combinations(frozenset("Işık"))
    assert (L.TURKISH, None) in found
    assert (None, L.TURKISH) in found
    assert (L.TURKISH, L.TURKISH) not in found
    assert fitting_combinations(frozenset("Işık😀")) == []
    assert fitting_combinations(frozenset("Işık"), ()) == []


@given(st.text(alphabet=st.sampled_from(sorted(national_charset(L.TURKISH, L.TURKISH).characters))))
def test_turkish_text_round_trips(text: str) -> None:
    charset = national_charset(L.TURKISH, L.TURKISH)
    assert charset.decode(charset.encode(text)) == text


class TestAutomaticChoice:
    def test_short_turkish_stays_ucs2_because_tables_save_nothing(self) -> None:
        analysis = analyze("Şeker çok güzel")
        assert analysis.encoding == "ucs2"
        assert analysis.segments == 1

    def test_long_turkish_uses_the_turkish_table_that_takes_fewest_segments(self) -> None:
        text = "Işık ğüzel şey. " * 12
        analysis = analyze(text)
        assert analysis.encoding == "turkish-single"
        assert analysis.single_shift is L.TURKISH
        assert analysis.segments == 2
        assert analyze(text, encoding="ucs2").segments == 3

    def test_locking_shift_wins_when_escapes_would_cost_a_segment(self) -> None:
        text = "ş" * 100
        analysis = analyze(text)
        assert analysis.encoding == "turkish-locking"
        assert analysis.segments == 1
        assert analysis.per_segment == 155

    def test_single_shift_is_preferred_at_equal_cost(self) -> None:
        analysis = analyze("Olá, você está bem? " * 10)
        assert analysis.encoding == "portuguese-single"

    def test_spanish(self) -> None:
        analysis = analyze("¿Dónde está el baño? Mañana a las diez. " * 4)
        assert analysis.encoding == "spanish-single"
        assert analysis.non_gsm_characters == ("ó", "á")

    def test_hindi(self) -> None:
        analysis = analyze("नमस्ते दुनिया " * 20)
        assert analysis.encoding == "hindi-locking"
        assert analysis.locking_shift is L.HINDI

    def test_national_tables_can_be_turned_off(self) -> None:
        assert analyze("ş" * 100, national_languages=()).encoding == "ucs2"
        assert analyze("ş" * 100, national_languages=[L.SPANISH]).encoding == "ucs2"

    def test_explicit_gsm7_may_use_a_national_table_but_never_ucs2(self) -> None:
        assert analyze("Şeker", encoding="gsm7").encoding == "turkish-single"
        with pytest.raises(EncodingError, match="U\\+015E"):
            analyze("Şeker", encoding="gsm7", national_languages=())
