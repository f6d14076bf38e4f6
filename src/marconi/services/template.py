"""Message templates: named texts with ``{{variables}}``, versions and locales.

A template's text is checked when it is saved: every ``{{`` opens a placeholder holding one
variable name (letters, digits, underscores; spaces inside the braces are allowed) and is closed
by ``}}``. Rendering fills every placeholder: a variable the text needs but the request lacks,
one the request gives but the text does not use, or a value that is empty or not a string or a
number is a ValidationError naming it, so a message never goes out with a hole in it.

Which text is used: the ``locale`` asked for (else the template's default locale), falling back
from a regional locale to its language (``pt-BR`` to ``pt``); its newest version, or the one
asked for. Versions never change once written, so lookups are cached for ``ttl`` seconds (the
newest version made on another node is used within that time).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from marconi.errors import NotFound, ValidationError
from marconi.services.clock import Clock, Monotonic, monotonic, utc_now
from marconi.services.message import BODY_MAX
from marconi.store.model import JsonValue
from marconi.store.template import Template, TemplateRepository, TemplateVersion

__all__ = [
    "Rendered",
    "TemplateService",
    "check_locale",
    "check_name",
    "parse_body",
    "render",
]

_PLACEHOLDER: Final = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}")
_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_LOCALE: Final = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$")
VARIABLES_MAX: Final = 50
VALUE_MAX: Final = 640
_CACHE_MAX: Final = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    text: str
    template: Template
    version: TemplateVersion


def check_name(name: str, *, field: str = "name") -> str:
    if not _NAME.match(name):
        raise ValidationError(
            f"{field} must be 1 to 64 letters, digits, '_', '.' or '-', starting with a letter "
            f"or digit; got {name!r}",
            code="invalid_value",
            field=field,
        )
    return name


def check_locale(locale: str, *, field: str = "locale") -> str:
    """A language tag such as ``en``, ``es`` or ``pt-BR``, in its usual case."""
    if not _LOCALE.match(locale):
        raise ValidationError(
            f"{field} must be a language tag such as en, es or pt-BR; got {locale!r}",
            code="invalid_value",
            field=field,
        )
    language, *rest = locale.split("-")
    subtags = [s.upper() if len(s) == 2 else s.title() if len(s) == 4 else s for s in rest]
    return "-".join([language.lower(), *subtags])


def parse_body(body: str, *, field: str = "body") -> tuple[str, ...]:
    """The variables ``body`` uses, in order of first use; ValidationError ``invalid_template``
    for a ``{{`` or ``}}`` that is not part of a placeholder."""
    if not body.strip():
        raise ValidationError(f"{field} must not be empty", code="missing_field", field=field)
    if len(body) > BODY_MAX:
        raise ValidationError(
            f"{field} has {len(body)} characters; the limit is {BODY_MAX}",
            code="body_too_long",
            field=field,
        )
    rest = _PLACEHOLDER.sub("", body)
    for brace in ("{{", "}}"):
        at = rest.find(brace)
        if at >= 0:
            raise ValidationError(
                f"{field} has a {brace!r} that is not part of a placeholder such as "
                "{{first_name}} (a placeholder holds one name of letters, digits and "
                f"underscores): near {rest[max(0, at - 10) : at + 12]!r}",
                code="invalid_template",
                field=field,
            )
    names = tuple(dict.fromkeys(m.group(1) for m in _PLACEHOLDER.finditer(body)))
    if len(names) > VARIABLES_MAX:
        raise ValidationError(
            f"{field} uses {len(names)} variables; the limit is {VARIABLES_MAX}",
            code="invalid_template",
            field=field,
        )
    return names


def _value(name: str, value: JsonValue) -> str:
    field = f"variables.{name}"
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationError(
            f"{field} must be a string or a number, got {type(value).__name__}",
            code="invalid_variable",
            field=field,
        )
    text = value if isinstance(value, str) else str(value)
    if not text.strip():
        raise ValidationError(
            f"{field} is empty; the message would have a hole in it",
            code="empty_variable",
            field=field,
        )
    if len(text) > VALUE_MAX:
        raise ValidationError(
            f"{field} is longer than {VALUE_MAX} characters", code="invalid_variable", field=field
        )
    return text


def render(version: TemplateVersion, variables: Mapping[str, JsonValue], *, name: str) -> str:
    """The text with every placeholder filled; every variable must be used and given."""
    for needed in version.variables:
        if needed not in variables:
            raise ValidationError(
                f"variable {needed!r} is missing: template {name!r} needs "
                f"{', '.join(version.variables)}",
                code="missing_variable",
                field=f"variables.{needed}",
            )
    for given in variables:
        if given not in version.variables:
            uses = ", ".join(version.variables) or "no variables"
            raise ValidationError(
                f"variable {given!r} is unknown: template {name!r} uses {uses}",
                code="unknown_variable",
                field=f"variables.{given}",
            )
    values = {key: _value(key, variables[key]) for key in version.variables}
    text = _PLACEHOLDER.sub(lambda m: values[m.group(1)], version.body)
    if len(text) > BODY_MAX:
        raise ValidationError(
            f"the rendered text has {len(text)} characters; the limit is {BODY_MAX}",
            code="body_too_long",
            field="variables",
        )
    return text


@dataclass(slots=True)
class _Cached:
    template: Template
    versions: list[TemplateVersion]
    until: float


class TemplateService:
    def __init__(
        self,
        *,
        templates: TemplateRepository,
        clock: Clock = utc_now,
        monotonic_clock: Monotonic = monotonic,
        ttl: float = 2.0,
    ) -> None:
        self._repo = templates
        self._clock = clock
        self._monotonic = monotonic_clock
        self._ttl = ttl
        self._cache: dict[tuple[str, str, int | None], _Cached] = {}

    async def create(
        self, account_id: str, *, name: str, body: str, locale: str = "en"
    ) -> tuple[Template, TemplateVersion]:
        check_name(name)
        locale = check_locale(locale)
        variables = parse_body(body)
        return await self._repo.create_template(
            account_id, name=name, locale=locale, body=body, variables=variables, now=self._clock()
        )

    async def add_version(
        self, account_id: str, name: str, *, body: str, locale: str | None = None
    ) -> TemplateVersion:
        """A new version of the text in ``locale`` (the template's default when None)."""
        variables = parse_body(body)
        if locale is None:
            template, _ = await self._repo.get_template(account_id, name)
            locale = template.default_locale
        version = await self._repo.add_template_version(
            account_id,
            name,
            locale=check_locale(locale),
            body=body,
            variables=variables,
            now=self._clock(),
        )
        self._forget(account_id, name)
        return version

    async def get(self, account_id: str, name: str) -> tuple[Template, list[TemplateVersion]]:
        return await self._repo.get_template(account_id, name)

    async def list_templates(self, account_id: str) -> list[Template]:
        return await self._repo.list_templates(account_id)

    async def delete(self, account_id: str, name: str) -> None:
        await self._repo.delete_template(account_id, name)
        self._forget(account_id, name)

    async def render(
        self,
        account_id: str,
        name: str,
        variables: Mapping[str, JsonValue],
        *,
        version: int | None = None,
        locale: str | None = None,
    ) -> Rendered:
        """The text ``name`` makes with ``variables``; ValidationError naming what is wrong."""
        if version is not None and version < 1:
            raise ValidationError(
                "template_version must be 1 or more", code="invalid_value", field="template_version"
            )
        wanted = None if locale is None else check_locale(locale)
        template, versions = await self._versions(account_id, name, version)
        chosen = _choose(template, versions, wanted, version)
        return Rendered(
            text=render(chosen, variables, name=name), template=template, version=chosen
        )

    async def _versions(
        self, account_id: str, name: str, version: int | None
    ) -> tuple[Template, list[TemplateVersion]]:
        key = (account_id, name, version)
        now = self._monotonic()
        cached = self._cache.get(key)
        if cached is None or cached.until <= now:
            try:
                template, versions = await self._repo.get_template(
                    account_id, name, version=version
                )
            except NotFound:
                raise ValidationError(
                    f"this account has no template named {name!r}; create it with "
                    "POST /v1/templates",
                    code="unknown_template",
                    field="template",
                ) from None
            if len(self._cache) > _CACHE_MAX:
                self._cache.clear()
            cached = self._cache[key] = _Cached(template, versions, now + self._ttl)
        return cached.template, cached.versions

    def _forget(self, account_id: str, name: str) -> None:
        for key in [k for k in self._cache if k[0] == account_id and k[1] == name]:
            del self._cache[key]


def _choose(
    template: Template, versions: list[TemplateVersion], locale: str | None, version: int | None
) -> TemplateVersion:
    """The newest version (``versions`` come newest first) in the locale, else its language."""
    if not versions:
        raise ValidationError(
            f"template {template.name!r} has no version {version}",
            code="unknown_template_version",
            field="template_version",
        )
    wanted = locale or template.default_locale
    for candidate in dict.fromkeys((wanted, wanted.split("-")[0])):
        for found in versions:
            if found.locale == candidate:
                return found
    have = ", ".join(sorted({v.locale for v in versions}))
    at = "" if version is None else f" at version {version}"
    raise ValidationError(
        f"template {template.name!r} has no text in locale {wanted!r}{at}; it has {have}",
        code="unknown_locale",
        field="locale",
    )
