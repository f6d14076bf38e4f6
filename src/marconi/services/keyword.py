"""Inbound keywords: which words opt a destination out, back in, or ask for help, in which
languages, with which replies; and matching an inbound text against them.

A keyword matches a message that is that single word, in any case, with whitespace and
punctuation around it (``" Stop! "``); a longer message is never a keyword. Settings are per
account; :data:`DEFAULT_SETTINGS` holds where an account set none.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from marconi.errors import ValidationError
from marconi.store.model import JsonValue

__all__ = [
    "DEFAULT_SETTINGS",
    "KeywordAction",
    "KeywordMatch",
    "KeywordSettings",
    "Language",
    "match_keyword",
    "parse_settings",
    "settings_json",
]

KEYWORD_MAX: Final = 32
KEYWORDS_MAX: Final = 50  # per list
LANGUAGES_MAX: Final = 20
REPLY_MAX: Final = 480


class KeywordAction(StrEnum):
    OPT_OUT = "opt_out"  # stops the sender the keyword was sent to
    OPT_OUT_ALL = "opt_out_all"  # stops every sender of the account
    OPT_IN = "opt_in"
    HELP = "help"


# The reply of each action; both opt-outs share one.
_REPLY_OF: Final = {
    KeywordAction.OPT_OUT: "opt_out",
    KeywordAction.OPT_OUT_ALL: "opt_out",
    KeywordAction.OPT_IN: "opt_in",
    KeywordAction.HELP: "help",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Language:
    language: str
    keywords: Mapping[KeywordAction, tuple[str, ...]]  # upper-case
    replies: Mapping[str, str | None]  # "opt_out", "opt_in", "help"; None: no reply


@dataclass(frozen=True, slots=True, kw_only=True)
class KeywordSettings:
    enabled: bool
    languages: tuple[Language, ...]
    _index: Mapping[str, tuple[KeywordAction, Language]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        index: dict[str, tuple[KeywordAction, Language]] = {}
        for language in self.languages:
            for action, words in language.keywords.items():
                for word in words:
                    index.setdefault(word.casefold(), (action, language))
        object.__setattr__(self, "_index", index)

    def lookup(self, word: str) -> tuple[KeywordAction, Language] | None:
        return self._index.get(word.casefold())


@dataclass(frozen=True, slots=True, kw_only=True)
class KeywordMatch:
    action: KeywordAction
    keyword: str  # as configured (upper-case)
    language: str
    reply: str | None

    def to_json(self) -> dict[str, JsonValue]:
        return {"action": self.action.value, "keyword": self.keyword, "language": self.language}


DEFAULT_SETTINGS: Final = KeywordSettings(
    enabled=True,
    languages=(
        Language(
            language="en",
            keywords={
                KeywordAction.OPT_OUT: ("STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"),
                KeywordAction.OPT_OUT_ALL: ("STOPALL",),
                KeywordAction.OPT_IN: ("START", "YES", "UNSTOP"),
                KeywordAction.HELP: ("HELP", "INFO"),
            },
            replies={
                "opt_out": "You have been unsubscribed and will receive no more messages from "
                "this number. Reply START to subscribe again.",
                "opt_in": "You have been subscribed again. Reply STOP to unsubscribe.",
                "help": "Reply STOP to unsubscribe, START to subscribe again.",
            },
        ),
    ),
)


def _edge(char: str) -> bool:
    return char.isspace() or unicodedata.category(char)[0] in "PZ"


def _word(text: str) -> str | None:
    """The single word ``text`` is, without surrounding whitespace and punctuation."""
    start, end = 0, len(text)
    while start < end and _edge(text[start]):
        start += 1
    while end > start and _edge(text[end - 1]):
        end -= 1
    word = text[start:end]
    if not word or len(word) > KEYWORD_MAX or any(c.isspace() for c in word):
        return None
    return word


def match_keyword(text: str, settings: KeywordSettings) -> KeywordMatch | None:
    if not settings.enabled or len(text) > 4 * KEYWORD_MAX:
        return None
    word = _word(text)
    if word is None:
        return None
    found = settings.lookup(word)
    if found is None:
        return None
    action, language = found
    return KeywordMatch(
        action=action,
        keyword=word.upper(),
        language=language.language,
        reply=language.replies.get(_REPLY_OF[action]),
    )


# -- settings as JSON ----------------------------------------------------------------------------


def _invalid(field: str, message: str, code: str = "invalid_value") -> ValidationError:
    return ValidationError(f"{field} {message}", code=code, field=field)


def _keyword_list(value: Any, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > KEYWORDS_MAX:
        raise _invalid(field, f"must be a list of at most {KEYWORDS_MAX} keywords")
    words: list[str] = []
    for i, item in enumerate(value):
        word = _word(item) if isinstance(item, str) else None
        if word is None or word != item.strip() or not any(c.isalnum() for c in word):
            raise _invalid(
                f"{field}[{i}]",
                f"must be a single word of at most {KEYWORD_MAX} characters, got {item!r}",
            )
        words.append(word.upper())
    return tuple(words)


def _reply(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > REPLY_MAX:
        raise _invalid(field, f"must be a text of at most {REPLY_MAX} characters, or null")
    return value


def _language(value: Any, field: str) -> Language:
    if not isinstance(value, dict):
        raise _invalid(field, "must be an object")
    allowed = {"language", "replies", *(a.value for a in KeywordAction)}
    for key in value:
        if key not in allowed:
            raise _invalid(f"{field}.{key}", "is not a known field", code="unknown_field")
    name = value.get("language")
    if not isinstance(name, str) or not 2 <= len(name) <= 16 or not name.replace("-", "").isalnum():
        raise _invalid(f"{field}.language", "must be a language tag such as en or es")
    replies = value.get("replies", {})
    if not isinstance(replies, dict):
        raise _invalid(f"{field}.replies", "must be an object")
    for key in replies:
        if key not in ("opt_out", "opt_in", "help"):
            raise _invalid(
                f"{field}.replies.{key}", "is not opt_out, opt_in or help", code="unknown_field"
            )
    return Language(
        language=name,
        keywords={
            action: _keyword_list(value.get(action.value, []), f"{field}.{action.value}")
            for action in KeywordAction
        },
        replies={
            key: _reply(replies.get(key), f"{field}.replies.{key}")
            for key in ("opt_out", "opt_in", "help")
        },
    )


def parse_settings(data: Mapping[str, Any]) -> KeywordSettings:
    """Settings from their JSON form; ValidationError names the field to fix. A keyword may
    appear once across every list of every language."""
    for key in data:
        if key not in ("enabled", "languages"):
            raise _invalid(key, "is not a known field", code="unknown_field")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _invalid("enabled", "must be true or false")
    languages = data.get("languages")
    if not isinstance(languages, list) or not 1 <= len(languages) <= LANGUAGES_MAX:
        raise _invalid("languages", f"must be a list of 1 to {LANGUAGES_MAX} languages")
    parsed = tuple(_language(item, f"languages[{i}]") for i, item in enumerate(languages))
    seen: dict[str, str] = {}
    for i, language in enumerate(parsed):
        if language.language in (lang.language for lang in parsed[:i]):
            raise _invalid(f"languages[{i}].language", f"{language.language!r} is given twice")
        for action, words in language.keywords.items():
            for word in words:
                where = f"languages[{i}].{action.value}"
                if word.casefold() in seen:
                    raise _invalid(
                        where,
                        f"repeats the keyword {word!r} (already in {seen[word.casefold()]})",
                        code="duplicate_keyword",
                    )
                seen[word.casefold()] = where
    return KeywordSettings(enabled=enabled, languages=parsed)


def settings_json(settings: KeywordSettings) -> dict[str, JsonValue]:
    return {
        "enabled": settings.enabled,
        "languages": [
            {
                "language": language.language,
                **{action.value: list(language.keywords[action]) for action in KeywordAction},
                "replies": dict(language.replies),
            }
            for language in settings.languages
        ],
    }
