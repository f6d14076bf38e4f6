from __future__ import annotations

import base64

import pytest

from marconi.api.auth import parse_authorization
from marconi.errors import AuthenticationError


def _basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_basic_and_bearer_give_the_same_pair() -> None:
    assert parse_authorization(_basic("SKabc:s3cret")) == ("SKabc", "s3cret")
    assert parse_authorization("Bearer SKabc:s3cret") == ("SKabc", "s3cret")
    assert parse_authorization("bearer   SKabc:se:cret") == ("SKabc", "se:cret")


@pytest.mark.parametrize(
    "header",
    ["", "Basic", "Basic ***", _basic("no-colon"), _basic(":secret"), _basic("id:"), "Token a:b"],
)
def test_malformed_headers_are_authentication_errors(header: str) -> None:
    with pytest.raises(AuthenticationError):
        parse_authorization(header)
