"""Codes, the guard's decisions and the templates: pure, no store."""

from __future__ import annotations

import collections
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import ValidationError
from marconi.store.verify_model import BlockReason, SendCounts, VerifyService
from marconi.verify.code import code_matches, generate_code, hash_code
from marconi.verify.guard import destination_of, guard
from marconi.verify.template import DEFAULT_TEMPLATES, check_template, render


@pytest.mark.parametrize("length", [4, 6, 10])
def test_codes_have_their_length_in_digits(length: int) -> None:
    for _ in range(200):
        code = generate_code(length)
        assert len(code) == length
        assert code.isdigit()


def test_codes_are_spread_over_every_digit_and_keep_leading_zeros() -> None:
    codes = [generate_code(4) for _ in range(4000)]
    first = collections.Counter(c[0] for c in codes)
    assert set(first) == set("0123456789")
    assert min(first.values()) > 250  # 400 expected each


@pytest.mark.parametrize("length", [3, 11, 0])
def test_a_length_out_of_range_is_refused(length: int) -> None:
    with pytest.raises(ValueError, match="4 to 10"):
        generate_code(length)


@given(st.text(alphabet="0123456789", min_size=4, max_size=10))
def test_a_hash_matches_its_code_only(code: str) -> None:
    stored = hash_code(code)
    assert code not in stored
    assert code_matches(code, stored)
    assert not code_matches(code + "0", stored)
    assert not code_matches(code[:-1], stored)
    assert hash_code(code) != stored  # salted


def test_a_malformed_hash_matches_nothing() -> None:
    assert not code_matches("1234", "not hex$abc")
    assert not code_matches("1234", "")


T0 = datetime(2026, 1, 1, tzinfo=UTC)


def service(**overrides: object) -> VerifyService:
    values: dict[str, object] = {
        "id": "VA1",
        "account_id": "AC1",
        "name": "Acme",
        "code_length": 6,
        "ttl": 600,
        "max_attempts": 5,
        "max_sends": 3,
        "send_window": 3600,
        "prefix_limit": 10,
        "country_limit": 100,
        "allowed_countries": (),
        "template": "{code}",
        "locale": "en",
        "from_addr": None,
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(overrides)
    return VerifyService(**values)  # type: ignore[arg-type]


def test_destinations_are_counted_by_number_range_and_region() -> None:
    d = destination_of("+447700900123")
    assert (d.to_addr, d.prefix, d.country) == ("+447700900123", "+447700900", "GB")
    assert destination_of("+15550100123").country == "US"
    assert destination_of("+33612345678").country == "FR"


@pytest.mark.parametrize(
    ("counts", "overrides", "reason"),
    [
        (
            SendCounts(destination=0, prefix=0, country=0),
            {"allowed_countries": ("FR",)},
            BlockReason.COUNTRY_NOT_ALLOWED,
        ),
        (SendCounts(destination=3, prefix=0, country=0), {}, BlockReason.DESTINATION_LIMIT),
        (SendCounts(destination=0, prefix=10, country=0), {}, BlockReason.PREFIX_LIMIT),
        (SendCounts(destination=0, prefix=0, country=100), {}, BlockReason.COUNTRY_LIMIT),
        (SendCounts(destination=2, prefix=9, country=99), {"allowed_countries": ("GB",)}, None),
    ],
)
def test_the_guard_names_the_first_limit_reached(
    counts: SendCounts, overrides: dict[str, object], reason: BlockReason | None
) -> None:
    refused = guard(service(**overrides), destination_of("+447700900123"), counts)
    assert (refused.reason if refused else None) is reason
    if refused is not None:
        assert refused.detail


def test_templates_default_by_locale_and_are_checked() -> None:
    assert check_template(None, "pt-BR") == DEFAULT_TEMPLATES["pt"]
    assert check_template(None, "de_DE") == DEFAULT_TEMPLATES["de"]
    assert check_template("{code} for {name}", "en") == "{code} for {name}"
    for bad in ("no code", "{code} {other}", "{code!r}", "{code:>8}", "{code", "", "x" * 400):
        with pytest.raises(ValidationError) as invalid:
            check_template(bad, "en")
        assert invalid.value.field == "template", bad
    with pytest.raises(ValidationError) as unknown:
        check_template(None, "tlh")
    assert unknown.value.field == "locale"


def test_render() -> None:
    text = render("{name}: {code}, {ttl_minutes} min", code="0042", name="Acme", ttl=90)
    assert text == "Acme: 0042, 1 min"
