"""Inbound messages in Twilio's form: the parameters, and OptOutType for keyword messages."""

from __future__ import annotations

from typing import Any

import pytest

from marconi.twilio.webhook import inbound_params


def _payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "message_id": "SM" + "1" * 32,
        "account_id": "AC" + "2" * 32,
        "from": "+14155550100",
        "to": "+14155550199",
        "body": "hello",
        "segments": 1,
        "keyword": None,
    }
    payload.update(overrides)
    return payload


def test_an_ordinary_message_carries_no_opt_out_type() -> None:
    params = inbound_params(_payload())
    assert params["MessageSid"] == params["SmsSid"] == "SM" + "1" * 32
    assert params["Body"] == "hello"
    assert params["NumSegments"] == "1"
    assert "OptOutType" not in params


@pytest.mark.parametrize(
    ("action", "expected"),
    [("opt_out", "STOP"), ("opt_out_all", "STOP"), ("opt_in", "START"), ("help", "HELP")],
)
def test_a_keyword_message_says_what_it_was(action: str, expected: str) -> None:
    keyword = {"action": action, "keyword": "X", "language": "en"}
    assert inbound_params(_payload(keyword=keyword))["OptOutType"] == expected
