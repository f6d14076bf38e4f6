"""/v1/templates and sending with a template over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.integration.api.conftest import Api

TO = "+14155550100"
SHIP = "Hello {{first_name}}, your order {{order}} ships today"


async def test_create_version_send_and_preview(api: Api) -> None:
    client = api.client()
    created = await client.post("/v1/templates", json={"name": "ship", "body": SHIP})
    assert created.status_code == 201, created.text
    template = created.json()
    assert template["id"].startswith("HX")
    assert template["default_locale"] == "en"
    assert template["versions"][0]["variables"] == ["first_name", "order"]
    spanish = await client.post(
        "/v1/templates/ship/versions",
        json={"locale": "es", "body": "Hola {{first_name}}, tu pedido {{order}} sale hoy"},
    )
    assert (spanish.status_code, spanish.json()["version"]) == (201, 1)
    second = await client.post(
        "/v1/templates/ship/versions", json={"body": "Hi {{first_name}} #{{order}}"}
    )
    assert (second.json()["locale"], second.json()["version"]) == ("en", 2)

    variables = {"first_name": "Ada", "order": 1042}
    sent = await client.post(
        "/v1/messages", json={"to": TO, "template": "ship", "variables": variables}
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["body"] == "Hi Ada #1042"
    first = await client.post(
        "/v1/messages",
        json={"to": TO, "template": "ship", "template_version": 1, "variables": variables},
    )
    assert first.json()["body"] == "Hello Ada, your order 1042 ships today"
    hola = await client.post(
        "/v1/messages",
        json={"to": TO, "template": "ship", "locale": "es", "variables": variables},
    )
    assert hola.json()["body"] == "Hola Ada, tu pedido 1042 sale hoy"

    preview = await client.post(
        "/v1/messages/preview",
        json={
            "template": "ship",
            "template_version": 1,
            "variables": {"first_name": "Зоя", "order": 7},
        },
    )
    assert preview.status_code == 200, preview.text
    got = preview.json()
    assert got["body"] == "Hello Зоя, your order 7 ships today"
    assert (got["encoding"], got["segments"]) == ("ucs2", 1)
    plain = (await client.post("/v1/messages/preview", json={"body": "x"})).json()
    assert "body" not in plain or plain["body"] is None

    detail = (await client.get("/v1/templates/ship")).json()
    assert [(v["locale"], v["version"]) for v in detail["versions"]] == [
        ("en", 2),
        ("en", 1),
        ("es", 1),
    ]
    assert [t["name"] for t in (await client.get("/v1/templates")).json()["items"]] == ["ship"]
    assert (await client.delete("/v1/templates/ship")).status_code == 204
    assert (await client.get("/v1/templates/ship")).status_code == 404


async def test_a_missing_or_unknown_variable_is_a_400_naming_it(api: Api) -> None:
    client = api.client()
    await client.post("/v1/templates", json={"name": "ship", "body": SHIP})
    missing = await client.post(
        "/v1/messages", json={"to": TO, "template": "ship", "variables": {"first_name": "Ada"}}
    )
    assert missing.status_code == 400
    assert (missing.json()["code"], missing.json()["field"]) == (
        "missing_variable",
        "variables.order",
    )
    assert "'order'" in missing.json()["detail"]
    unknown = await client.post(
        "/v1/messages",
        json={
            "to": TO,
            "template": "ship",
            "variables": {"first_name": "Ada", "order": 1, "coupon": "X"},
        },
    )
    assert (unknown.status_code, unknown.json()["field"]) == (400, "variables.coupon")
    no_variables = await client.post("/v1/messages", json={"to": TO, "template": "ship"})
    assert (no_variables.status_code, no_variables.json()["field"]) == (
        400,
        "variables.first_name",
    )
    preview = await client.post(
        "/v1/messages/preview", json={"template": "ship", "variables": {"order": 1}}
    )
    assert (preview.status_code, preview.json()["field"]) == (400, "variables.first_name")
    assert (await client.get("/v1/messages")).json()["items"] == []  # nothing was sent


async def test_other_bad_requests_are_clear(api: Api) -> None:
    client = api.client()
    await client.post("/v1/templates", json={"name": "t", "body": "Hi {{name}}"})
    cases = [
        ({"to": TO, "template": "nope", "variables": {}}, 422, "unknown_template", "template"),
        (
            {"to": TO, "body": "x", "template": "t", "variables": {"name": "A"}},
            422,
            "invalid_value",
            "template",
        ),
        ({"to": TO, "body": "x", "variables": {"name": "A"}}, 422, "invalid_value", "variables"),
        ({"to": TO}, 422, "missing_field", "body"),
        (
            {"to": TO, "template": "t", "locale": "fr", "variables": {"name": "A"}},
            422,
            "unknown_locale",
            "locale",
        ),
        (
            {"to": TO, "template": "t", "template_version": 9, "variables": {"name": "A"}},
            422,
            "unknown_template_version",
            "template_version",
        ),
        (
            {"to": TO, "template": "t", "template_version": "1"},
            422,
            "invalid_type",
            "template_version",
        ),
        ({"to": TO, "template": "t", "variables": ["A"]}, 422, "invalid_type", "variables"),
    ]
    for body, status, code, field in cases:
        got = await client.post("/v1/messages", json=body)
        assert (got.status_code, got.json()["code"], got.json()["field"]) == (
            status,
            code,
            field,
        ), body
    bad_template = await client.post("/v1/templates", json={"name": "x", "body": "Hi {{name"})
    assert (bad_template.status_code, bad_template.json()["code"]) == (422, "invalid_template")
    taken = await client.post("/v1/templates", json={"name": "t", "body": "again"})
    assert taken.status_code == 409
    missing = await client.post("/v1/templates/none/versions", json={"body": "x"})
    assert missing.status_code == 404


async def test_templates_are_per_account(api: Api) -> None:
    admin = api.client()
    await admin.post("/v1/templates", json={"name": "t", "body": "secret {{x}}"})
    made = (await admin.post("/v1/accounts", json={"name": "other"})).json()
    other = api.anonymous()
    other.auth = (made["key"]["id"], made["key"]["secret"])
    assert (await other.get("/v1/templates")).json()["items"] == []
    assert (await other.get("/v1/templates/t")).status_code == 404
    assert (await other.delete("/v1/templates/t")).status_code == 404
    sent = await other.post("/v1/messages", json={"to": TO, "template": "t", "variables": {"x": 1}})
    assert sent.json()["code"] == "unknown_template"
