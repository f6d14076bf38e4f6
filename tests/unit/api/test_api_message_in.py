"""The send route's hand-written input check agrees with the documented model on any input."""

from __future__ import annotations

from typing import Any

import pydantic
from hypothesis import given, settings
from hypothesis import strategies as st

from marconi.api.body import parse_model
from marconi.api.schema import MessageIn, message_in
from marconi.errors import ValidationError

FIELDS = [
    "to",
    "from",
    "body",
    "status_callback",
    "validity_period",
    "send_at",
    "encoding",
    "smart_encoding",
    "metadata",
    "template",
    "template_version",
    "locale",
    "variables",
]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.sampled_from(["", "auto", "gsm7", "ucs2", "+14155550100", "Hello"]),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
KEYS = st.one_of(
    st.sampled_from(FIELDS), st.sampled_from(["from_", "x", "To"]), st.text(max_size=4)
)


def _outcome(check: Any, data: dict[str, Any]) -> tuple[str, str | None] | dict[str, Any]:
    try:
        model = check(data)
    except ValidationError as exc:
        return (exc.code, exc.field)
    return model.model_dump()


BASE = {"to": "+14155550100", "body": "Hello"}
REQUESTS = st.one_of(
    st.dictionaries(KEYS, VALUES, max_size=7),
    st.dictionaries(KEYS, VALUES, max_size=3).map(lambda extra: {**BASE, **extra}),
    st.dictionaries(st.sampled_from(FIELDS[3:]), VALUES, max_size=4).map(
        lambda extra: {**BASE, **extra}
    ),
)


@settings(max_examples=800)
@given(REQUESTS)
def test_the_hand_check_agrees_with_the_model(data: dict[str, Any]) -> None:
    by_model = _outcome(lambda d: parse_model(MessageIn, d), data)
    by_hand = _outcome(message_in, data)
    assert by_hand == by_model


def test_a_valid_request_becomes_the_same_model() -> None:
    data = {
        "to": "+14155550100",
        "from": "Marconi",
        "body": "hi",
        "validity_period": 60,
        "smart_encoding": True,
        "encoding": "ucs2",
        "metadata": {"a": [1]},
    }
    assert message_in(data) == MessageIn.model_validate(data)
    assert isinstance(message_in(data), pydantic.BaseModel)
