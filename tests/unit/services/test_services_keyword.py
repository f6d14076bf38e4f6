"""Inbound keywords: what matches, and the settings' validation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import ValidationError
from marconi.services.keyword import (
    DEFAULT_SETTINGS,
    KeywordAction,
    match_keyword,
    parse_settings,
    settings_json,
)


@pytest.mark.parametrize(
    ("text", "action", "keyword"),
    [
        ("STOP", KeywordAction.OPT_OUT, "STOP"),
        ("stop", KeywordAction.OPT_OUT, "STOP"),
        ("  Stop!  ", KeywordAction.OPT_OUT, "STOP"),
        ("\tunsubscribe.\r\n", KeywordAction.OPT_OUT, "UNSUBSCRIBE"),
        ("Cancel", KeywordAction.OPT_OUT, "CANCEL"),
        ("end", KeywordAction.OPT_OUT, "END"),
        ("QUIT?!", KeywordAction.OPT_OUT, "QUIT"),
        ("stopall", KeywordAction.OPT_OUT_ALL, "STOPALL"),
        ("START", KeywordAction.OPT_IN, "START"),
        ("yes", KeywordAction.OPT_IN, "YES"),
        ("'unstop'", KeywordAction.OPT_IN, "UNSTOP"),
        ("help", KeywordAction.HELP, "HELP"),
        ("¿Info?", KeywordAction.HELP, "INFO"),
    ],
)
def test_the_default_keywords_match_in_any_case_with_punctuation_around(
    text: str, action: KeywordAction, keyword: str
) -> None:
    match = match_keyword(text, DEFAULT_SETTINGS)
    assert match is not None
    assert (match.action, match.keyword, match.language) == (action, keyword, "en")
    assert match.reply


@pytest.mark.parametrize(
    "text",
    ["", "   ", "!!", "stop please", "please stop", "STOP STOP", "st op", "stopp", "S.T.O.P", "x"],
)
def test_anything_but_a_single_keyword_is_not_one(text: str) -> None:
    assert match_keyword(text, DEFAULT_SETTINGS) is None


@given(st.text(max_size=40))
def test_matching_any_text_never_fails(text: str) -> None:
    match = match_keyword(text, DEFAULT_SETTINGS)
    if match is not None:
        assert not any(c.isspace() for c in text.strip())


SPANISH: dict[str, Any] = {
    "languages": [
        {
            "language": "en",
            "opt_out": ["STOP"],
            "opt_in": ["START"],
            "help": ["HELP"],
            "replies": {"opt_out": "Bye", "opt_in": "Welcome back", "help": "Help text"},
        },
        {
            "language": "es",
            "opt_out": ["baja", "alto"],
            "opt_out_all": ["BAJATODO"],
            "opt_in": ["ALTA"],
            "help": ["AYUDA"],
            "replies": {"opt_out": "Baja confirmada", "help": None},
        },
    ]
}


def test_configured_keywords_reply_in_the_language_of_the_keyword() -> None:
    settings = parse_settings(SPANISH)
    baja = match_keyword("Baja", settings)
    assert baja is not None
    assert (baja.action, baja.keyword, baja.language, baja.reply) == (
        KeywordAction.OPT_OUT,
        "BAJA",
        "es",
        "Baja confirmada",
    )
    everything = match_keyword("bajatodo", settings)
    assert everything is not None
    assert everything.action is KeywordAction.OPT_OUT_ALL
    assert everything.reply == "Baja confirmada"  # both opt-outs share the reply
    ayuda = match_keyword("ayuda", settings)
    assert ayuda is not None
    assert ayuda.reply is None  # null: no reply
    stop = match_keyword("stop", settings)
    assert stop is not None
    assert stop.reply == "Bye"
    assert match_keyword("unsubscribe", settings) is None  # replaced, not added to
    assert parse_settings(settings_json(settings)) == settings


def test_disabled_settings_match_nothing() -> None:
    settings = parse_settings({**SPANISH, "enabled": False})
    assert match_keyword("STOP", settings) is None
    assert parse_settings(settings_json(DEFAULT_SETTINGS)) == DEFAULT_SETTINGS


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ({}, "invalid_value", "languages"),
        ({"languages": []}, "invalid_value", "languages"),
        ({"languages": [{"language": "en"}], "x": 1}, "unknown_field", "x"),
        ({"languages": [{"language": "en"}], "enabled": "yes"}, "invalid_value", "enabled"),
        ({"languages": [{"language": "e n"}]}, "invalid_value", "languages[0].language"),
        (
            {"languages": [{"language": "en", "opt_out": ["two words"]}]},
            "invalid_value",
            "languages[0].opt_out[0]",
        ),
        (
            {"languages": [{"language": "en", "help": ["ok", "!!"]}]},
            "invalid_value",
            "languages[0].help[1]",
        ),
        (
            {"languages": [{"language": "en", "opt_in": "START"}]},
            "invalid_value",
            "languages[0].opt_in",
        ),
        (
            {"languages": [{"language": "en", "opt_out": ["STOP"], "opt_in": ["stop"]}]},
            "duplicate_keyword",
            "languages[0].opt_in",
        ),
        (
            {"languages": [{"language": "en"}, {"language": "en"}]},
            "invalid_value",
            "languages[1].language",
        ),
        (
            {"languages": [{"language": "en", "replies": {"stop": "x"}}]},
            "unknown_field",
            "languages[0].replies.stop",
        ),
        (
            {"languages": [{"language": "en", "replies": {"help": "x" * 481}}]},
            "invalid_value",
            "languages[0].replies.help",
        ),
    ],
)
def test_bad_settings_name_the_field(data: dict[str, Any], code: str, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_settings(data)
    assert (err.value.code, err.value.field) == (code, field)
