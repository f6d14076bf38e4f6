"""The text of a code's message: a template per service, or the default of its locale.

Placeholders are ``{code}`` (required), ``{name}`` (the service's name) and ``{ttl_minutes}``.
"""

from __future__ import annotations

import string
from typing import Final

from marconi.errors import ValidationError

__all__ = ["DEFAULT_TEMPLATES", "PLACEHOLDERS", "TEMPLATE_MAX", "check_template", "render"]

PLACEHOLDERS: Final = frozenset({"code", "name", "ttl_minutes"})
TEMPLATE_MAX: Final = 320
DEFAULT_TEMPLATES: Final = {
    "en": "Your {name} verification code is: {code}",
    "fr": "Votre code de vérification {name} est : {code}",
    "de": "Ihr {name} Bestätigungscode lautet: {code}",
    "es": "Tu código de verificación de {name} es: {code}",
    "it": "Il tuo codice di verifica {name} è: {code}",
    "pt": "O seu código de verificação {name} é: {code}",
    "nl": "Uw {name} verificatiecode is: {code}",
}


def check_template(template: str | None, locale: str) -> str:
    """The template to keep: ``template`` once checked, or the default of ``locale``."""
    if template is None:
        language = locale.replace("_", "-").split("-")[0].lower()
        if language not in DEFAULT_TEMPLATES:
            raise ValidationError(
                f"there is no default template for locale {locale!r} (there is for "
                f"{', '.join(sorted(DEFAULT_TEMPLATES))}); give a template",
                code="invalid_value",
                field="locale",
            )
        return DEFAULT_TEMPLATES[language]
    if not template.strip() or len(template) > TEMPLATE_MAX:
        raise ValidationError(
            f"template must be 1 to {TEMPLATE_MAX} characters",
            code="invalid_value",
            field="template",
        )
    try:
        fields = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(template)
            if name is not None
        ]
    except ValueError as exc:
        raise ValidationError(
            f"template is malformed ({exc}); write braces as {{{{ and }}}}",
            code="invalid_value",
            field="template",
        ) from None
    names = [name for name, _, _ in fields]
    unknown = sorted(set(names) - PLACEHOLDERS)
    if unknown or any(spec or conversion for _, spec, conversion in fields):
        raise ValidationError(
            f"template placeholders must be plain {{code}}, {{name}} or {{ttl_minutes}}; "
            f"found {[f'{{{n}}}' for n in names]}",
            code="invalid_value",
            field="template",
        )
    if "code" not in names:
        raise ValidationError(
            "template must contain {code}", code="invalid_value", field="template"
        )
    return template


def render(template: str, *, code: str, name: str, ttl: int) -> str:
    return template.format(code=code, name=name, ttl_minutes=max(1, ttl // 60))
