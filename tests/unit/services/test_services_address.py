from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import ValidationError
from marconi.services.address import normalize_phone, parse_sender
from marconi.store.model import NumberKind


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+14155550100", "+14155550100"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("0014155550100", "+14155550100"),
        ("+44 7700 900123", "+447700900123"),
        ("+33 6 12 34 56 78", "+33612345678"),
    ],
)
def test_numbers_come_out_in_e164(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize(
    "raw", ["4155550100", "+999123456", "+1415", "hello", "+1 415 555 0100 ext 7", "++1415555"]
)
def test_impossible_numbers_are_refused_with_the_field(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_phone(raw, field="to")
    assert caught.value.code == "invalid_phone_number"
    assert caught.value.field == "to"


@pytest.mark.parametrize(
    ("raw", "value", "kind"),
    [
        ("+1 415 555 0100", "+14155550100", NumberKind.E164),
        ("12345", "12345", NumberKind.SHORT_CODE),
        ("Marconi", "Marconi", NumberKind.ALPHANUMERIC),
        ("ACME Bank", "ACME Bank", NumberKind.ALPHANUMERIC),
        ("Shop24", "Shop24", NumberKind.ALPHANUMERIC),
    ],
)
def test_senders_are_numbers_short_codes_or_alphanumeric(
    raw: str, value: str, kind: NumberKind
) -> None:
    sender = parse_sender(raw)
    assert (sender.value, sender.kind) == (value, kind)


@pytest.mark.parametrize("raw", ["TwelveLetter", "Ünïcødé☃", "12", "123456789012", "  ", "+1415"])
def test_bad_senders_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_sender(raw)
    assert caught.value.code == "invalid_sender"
    assert caught.value.field == "from"


@given(st.from_regex(r"\+1[2-9][0-9]{2}[2-9][0-9]{6}", fullmatch=True))
def test_normalizing_is_idempotent(raw: str) -> None:
    once = normalize_phone(raw)
    assert normalize_phone(once) == once
    assert once.startswith("+1")
    assert once[1:].isdigit()
