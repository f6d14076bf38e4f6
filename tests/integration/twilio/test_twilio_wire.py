"""The pieces of the compatible face that need no server: X-Twilio-Signature against twilio's
own RequestValidator, TwiML replies, URL marks, form values and the error-code mapping."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from marconi.errors import ValidationError
from marconi.twilio.codes import delivery_error_code
from marconi.twilio.errors import twilio_code, twilio_error_for
from marconi.twilio.form import Form
from marconi.twilio.twiml import parse_twiml
from marconi.twilio.webhook import compute_signature, is_marked, mark, unmark

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(
    token=st.text(min_size=1, max_size=40).filter(lambda t: "\x00" not in t),
    params=st.dictionaries(st.text(min_size=1, max_size=10), texts, max_size=6),
)
def test_signature_validates_with_twilios_validator(token: str, params: dict[str, str]) -> None:
    url = "https://app.example.com/sms?x=1"
    signature = compute_signature(token, url, params)
    assert RequestValidator(token).validate(url, params, signature)


@pytest.mark.parametrize(
    ("content_type", "body", "reply"),
    [
        ("text/xml", b"<Response><Message>pong</Message></Response>", "pong"),
        ("application/xml", b"<Response><Message><Body> hi </Body></Message></Response>", "hi"),
        ("text/xml; charset=utf-8", "<Response><Message>€</Message></Response>".encode(), "€"),
        ("text/xml", b"<Response/>", None),
        ("text/xml", b"<Response><Message></Message></Response>", None),
        ("text/xml", b"<Other><Message>x</Message></Other>", None),
        ("text/xml", b"<Response><Message>x", None),
        ("application/json", b"<Response><Message>x</Message></Response>", None),
        (
            "text/xml",
            b'<!DOCTYPE r [<!ENTITY a "x">]><Response><Message>&a;</Message></Response>',
            None,
        ),
    ],
)
def test_twiml_replies(content_type: str, body: bytes, reply: str | None) -> None:
    assert parse_twiml(content_type, body) == reply


def test_marks_never_reach_the_receiver() -> None:
    marked = mark("https://app.example.com/status?a=1#frag")
    assert marked == "https://app.example.com/status?a=1#twilio"
    assert is_marked(marked)
    assert not is_marked("https://app.example.com/status")
    assert unmark(marked) == "https://app.example.com/status?a=1"
    assert unmark(None) is None


def test_form_values() -> None:
    form = Form.from_query("To=%2B1415&SmartEncoded=true&ValidityPeriod=60&Unknown=x&Body=")
    assert form.text("To") == "+1415"
    assert form.boolean("SmartEncoded") is True
    assert form.integer("ValidityPeriod", low=1, high=100) == 60
    assert form.get("Body") == ""
    assert form.text("Body") is None
    with pytest.raises(ValidationError):
        form.integer("To", low=1, high=2)
    with pytest.raises(ValidationError):
        Form.from_query("SmartEncoded=maybe").boolean("SmartEncoded")


@pytest.mark.parametrize(
    ("code", "field", "twilio"),
    [
        ("invalid_phone_number", "to", 21211),
        ("invalid_sender", "from", 21212),
        ("sender_not_owned", "from", 21606),
        ("destination_opted_out", "to", 21610),
        ("missing_field", "body", 21602),
        ("something_new", "x", 20422),
    ],
)
def test_validation_codes(code: str, field: str, twilio: int) -> None:
    error = ValidationError("no", code=code, field=field)
    assert twilio_code(error) == twilio
    response = twilio_error_for(error)
    assert response.status_code == 400
    body = orjson.loads(bytes(response.body))
    assert body == {
        "code": twilio,
        "message": "no",
        "more_info": f"https://www.twilio.com/docs/errors/{twilio}",
        "status": 400,
    }


def test_delivery_codes() -> None:
    assert delivery_error_code(None) is None
    assert delivery_error_code("ESME_RINVDSTADR") == 30005
    assert delivery_error_code("validity_expired") == 30036
    assert delivery_error_code("anything else") == 30008
