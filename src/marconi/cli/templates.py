"""``marconi templates add/version/list/show/render/remove``: an account's message templates."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from marconi.cli.local import add_common_options, dump_json, run_with_services, table, when
from marconi.errors import ValidationError
from marconi.services import Services
from marconi.store.model import JsonValue
from marconi.store.template import Template, TemplateVersion


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "templates",
        help="manage message templates and try them out",
        description="Named texts with {{variables}}, versions and locales (docs/templates.md).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="create a template (version 1)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--body", required=True, help="the text, with {{placeholders}}; '-': stdin")
    add.add_argument("--locale", default="en", help="its language tag (default: en)")
    add_common_options(add)
    add.set_defaults(func=run_add)

    version = actions.add_parser("version", help="add the next version of a locale's text")
    version.add_argument("name", metavar="NAME")
    version.add_argument("--body", required=True, help="the new text; '-': stdin")
    version.add_argument("--locale", help="its language tag (default: the template's)")
    add_common_options(version)
    version.set_defaults(func=run_version)

    listing = actions.add_parser("list", help="list the account's templates")
    add_common_options(listing)
    listing.set_defaults(func=run_list)

    show = actions.add_parser("show", help="a template with every version")
    show.add_argument("name", metavar="NAME")
    add_common_options(show)
    show.set_defaults(func=run_show)

    render = actions.add_parser("render", help="print the text a send would have")
    render.add_argument("name", metavar="NAME")
    render.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help="a variable, repeated"
    )
    render.add_argument("--locale")
    render.add_argument("--version", type=int)
    add_common_options(render)
    render.set_defaults(func=run_render)

    remove = actions.add_parser("remove", help="delete a template with every version")
    remove.add_argument("name", metavar="NAME")
    add_common_options(remove)
    remove.set_defaults(func=run_remove)


def _template(template: Template, versions: list[TemplateVersion]) -> dict[str, object]:
    return {
        "id": template.id,
        "name": template.name,
        "default_locale": template.default_locale,
        "created_at": template.created_at,
        "versions": [
            {
                "locale": v.locale,
                "version": v.version,
                "body": v.body,
                "variables": list(v.variables),
                "created_at": v.created_at,
            }
            for v in versions
        ],
    }


def _body(value: str) -> str:
    return sys.stdin.read().rstrip("\n") if value == "-" else value


def _variables(pairs: list[str]) -> dict[str, JsonValue]:
    variables: dict[str, JsonValue] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValidationError(
                f"--var takes NAME=VALUE, got {pair!r}", code="invalid_value", field="--var"
            )
        variables[name] = value
    return variables


def run_add(args: argparse.Namespace) -> int:
    body = _body(args.body)

    async def command(services: Services, account_id: str) -> int:
        template, version = await services.templates.create(
            account_id, name=args.name, body=body, locale=args.locale
        )
        if args.json:
            dump_json(_template(template, [version]))
        else:
            print(f"added {template.name} ({template.id}), {version.locale} version 1")
        return 0

    return run_with_services(args, command)


def run_version(args: argparse.Namespace) -> int:
    body = _body(args.body)

    async def command(services: Services, account_id: str) -> int:
        version = await services.templates.add_version(
            account_id, args.name, body=body, locale=args.locale
        )
        if args.json:
            dump_json({"locale": version.locale, "version": version.version, "body": version.body})
        else:
            print(f"added {args.name} {version.locale} version {version.version}")
        return 0

    return run_with_services(args, command)


def run_list(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        templates = await services.templates.list_templates(account_id)
        if args.json:
            dump_json(
                [{k: v for k, v in _template(t, []).items() if k != "versions"} for t in templates]
            )
        elif not templates:
            print("no templates yet; add one with `marconi templates add NAME --body TEXT`")
        else:
            print(
                table(
                    ["NAME", "ID", "DEFAULT LOCALE", "UPDATED"],
                    [[t.name, t.id, t.default_locale, when(t.updated_at)] for t in templates],
                )
            )
        return 0

    return run_with_services(args, command)


def run_show(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        template, versions = await services.templates.get(account_id, args.name)
        if args.json:
            dump_json(_template(template, versions))
            return 0
        print(f"{template.name} ({template.id}), default locale {template.default_locale}")
        for v in versions:
            print(f"  {v.locale} v{v.version}  {v.body}")
        return 0

    return run_with_services(args, command)


def run_render(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        rendered = await services.templates.render(
            account_id,
            args.name,
            _variables(args.var),
            version=args.version,
            locale=args.locale,
        )
        analysis = services.messages.preview(rendered.text)
        if args.json:
            dump_json({"body": rendered.text, **analysis.to_dict()})
        else:
            print(rendered.text)
            print(
                f"({rendered.version.locale} v{rendered.version.version}: "
                f"{analysis.encoding}, {analysis.segments} segment"
                f"{'s' * (analysis.segments != 1)})",
                file=sys.stderr,
            )
        return 0

    return run_with_services(args, command)


def run_remove(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        await services.templates.delete(account_id, args.name)
        if not args.json:
            print(f"removed {args.name}")
        return 0

    return run_with_services(args, command)
