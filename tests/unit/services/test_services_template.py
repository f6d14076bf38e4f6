"""Templates: parsing, rendering, and choosing a version and locale (over a real SQLite store)."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.services.conftest import FakeClock

from marconi.errors import Conflict, NotFound, ValidationError
from marconi.services import SendRequest, Services
from marconi.services.template import check_locale, parse_body, render
from marconi.store.model import JsonValue, MessageFilter
from marconi.store.sql import SqlStore
from marconi.store.template import TemplateVersion

TO = "+14155550100"
SHIP = "Hello {{first_name}}, your order {{ order }} ships today"


def _version(body: str) -> TemplateVersion:
    return TemplateVersion(
        template_id="HX",
        locale="en",
        version=1,
        body=body,
        variables=parse_body(body),
        created_at=datetime(2026, 1, 1).astimezone(),
    )


def test_placeholders_are_found_in_order_of_first_use() -> None:
    assert parse_body(SHIP) == ("first_name", "order")
    assert parse_body("{{a}}{{b}} {{ a }}") == ("a", "b")
    assert parse_body("no variables") == ()


@pytest.mark.parametrize(
    "body", ["Hi {{name", "Hi name}}", "Hi {{ }}", "Hi {{first name}}", "{{1st}}", "{{a-b}}"]
)
def test_a_brace_outside_a_placeholder_is_refused(body: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_body(body)
    assert (err.value.code, err.value.field) == ("invalid_template", "body")


def test_render_fills_every_placeholder() -> None:
    text = render(_version(SHIP), {"first_name": "Ada", "order": 1042}, name="ship")
    assert text == "Hello Ada, your order 1042 ships today"
    # a value is inserted as it is, never read as a placeholder itself
    assert render(_version("{{a}}"), {"a": "{{b}}"}, name="t") == "{{b}}"


@pytest.mark.parametrize(
    ("variables", "code", "field"),
    [
        ({"first_name": "Ada"}, "missing_variable", "variables.order"),
        ({}, "missing_variable", "variables.first_name"),
        ({"first_name": "Ada", "order": 1, "coupon": "X"}, "unknown_variable", "variables.coupon"),
        ({"first_name": "", "order": 1}, "empty_variable", "variables.first_name"),
        ({"first_name": "  ", "order": 1}, "empty_variable", "variables.first_name"),
        ({"first_name": None, "order": 1}, "invalid_variable", "variables.first_name"),
        ({"first_name": True, "order": 1}, "invalid_variable", "variables.first_name"),
        ({"first_name": ["A"], "order": 1}, "invalid_variable", "variables.first_name"),
        ({"first_name": "A" * 641, "order": 1}, "invalid_variable", "variables.first_name"),
    ],
)
def test_a_wrong_variable_is_named_never_left_as_a_hole(
    variables: dict[str, JsonValue], code: str, field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        render(_version(SHIP), variables, name="ship")
    assert (err.value.code, err.value.field) == (code, field)
    assert field.split(".")[1] in str(err.value)


@given(st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), st.text(min_size=1)))
def test_rendered_text_has_no_placeholder_left(values: dict[str, str]) -> None:
    values = {k: v for k, v in values.items() if v.strip() and "{" not in v and "}" not in v}
    body = " ".join(f"<{{{{{name}}}}}>" for name in values) or "plain"
    text = render(_version(body), dict(values), name="t")
    assert "{{" not in text
    for value in values.values():
        assert f"<{value}>" in text


def test_locales_are_written_in_their_usual_case() -> None:
    assert check_locale("PT-br") == "pt-BR"
    assert check_locale("zh-hant-tw") == "zh-Hant-TW"
    with pytest.raises(ValidationError):
        check_locale("english please")


async def test_versions_and_locales_are_chosen_as_asked(services: Services) -> None:
    admin = (await services.accounts.admin_account()).id
    templates = services.templates
    await templates.create(admin, name="ship", body=SHIP)
    await templates.add_version(admin, "ship", body="Hi {{first_name}}, order {{order}} is out")
    await templates.add_version(admin, "ship", body="Hola {{first_name}} ({{order}})", locale="es")
    values: dict[str, JsonValue] = {"first_name": "Ada", "order": 7}
    newest = await templates.render(admin, "ship", values)
    assert (newest.text, newest.version.version) == ("Hi Ada, order 7 is out", 2)
    first = await templates.render(admin, "ship", values, version=1)
    assert first.text == "Hello Ada, your order 7 ships today"
    spanish = await templates.render(admin, "ship", values, locale="es-MX")  # falls back to es
    assert (spanish.text, spanish.version.locale) == ("Hola Ada (7)", "es")
    with pytest.raises(ValidationError) as err:
        await templates.render(admin, "ship", values, locale="fr")
    assert (err.value.code, err.value.field) == ("unknown_locale", "locale")
    assert "en, es" in str(err.value)
    with pytest.raises(ValidationError) as err:
        await templates.render(admin, "ship", values, version=3)
    assert (err.value.code, err.value.field) == ("unknown_template_version", "template_version")
    with pytest.raises(ValidationError) as err:
        await templates.render(admin, "ship", values, locale="es", version=2)
    assert err.value.code == "unknown_locale"
    with pytest.raises(ValidationError) as err:
        await templates.render(admin, "nope", values)
    assert (err.value.code, err.value.field) == ("unknown_template", "template")
    with pytest.raises(Conflict):
        await templates.create(admin, name="ship", body="x")
    with pytest.raises(ValidationError):
        await templates.create(admin, name="bad name", body="x")


async def test_a_new_version_is_used_at_once_on_this_node(
    services: Services, clock: FakeClock
) -> None:
    admin = (await services.accounts.admin_account()).id
    await services.templates.create(admin, name="t", body="one")
    assert (await services.templates.render(admin, "t", {})).text == "one"
    await services.templates.add_version(admin, "t", body="two")
    assert (await services.templates.render(admin, "t", {})).text == "two"
    await services.templates.delete(admin, "t")
    with pytest.raises(ValidationError):
        await services.templates.render(admin, "t", {})
    with pytest.raises(NotFound):
        await services.templates.delete(admin, "t")


async def test_sending_with_a_template_stores_the_rendered_text(
    services: Services, store: SqlStore
) -> None:
    admin = (await services.accounts.admin_account()).id
    await services.templates.create(admin, name="ship", body=SHIP)
    message = await services.messages.send(
        admin,
        SendRequest(to=TO, template="ship", variables={"first_name": "Zoé", "order": "A-1"}),
    )
    assert message.body == "Hello Zoé, your order A-1 ships today"
    assert (message.encoding, message.segments) == ("gsm7", 1)
    bad = [
        SendRequest(to=TO, template="ship", variables={"first_name": "Ada"}),
        SendRequest(to=TO, body="x", template="ship", variables={"first_name": "A", "order": 1}),
        SendRequest(to=TO, body="x", variables={"a": 1}),
        SendRequest(to=TO, body="x", locale="en"),
    ]
    for request in bad:
        with pytest.raises(ValidationError):
            await services.messages.send(admin, request)
    page = await store.list_messages(admin, filter=MessageFilter())
    assert len(page.items) == 1  # nothing of the refused requests was stored
