"""Templates in SQL (tables ``templates`` and ``template_versions``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from marconi.errors import Conflict, NotFound
from marconi.store.attached import Attached
from marconi.store.ids import new_id
from marconi.store.schema import template_versions, templates
from marconi.store.template import TEMPLATE, Template, TemplateVersion

__all__ = ["SqlTemplateRepository"]


def _template(row: sa.RowMapping) -> Template:
    return Template(**{c.name: row[c.name] for c in templates.columns})


def _version(row: sa.RowMapping) -> TemplateVersion:
    return TemplateVersion(
        template_id=row["template_id"],
        locale=row["locale"],
        version=row["version"],
        body=row["body"],
        variables=tuple(row["variables"]),
        created_at=row["created_at"],
    )


def _named(account_id: str, name: str) -> sa.ColumnElement[bool]:
    return sa.and_(templates.c.account_id == account_id, templates.c.name == name)


class SqlTemplateRepository(Attached):
    async def create_template(
        self,
        account_id: str,
        *,
        name: str,
        locale: str,
        body: str,
        variables: tuple[str, ...],
        now: datetime,
    ) -> tuple[Template, TemplateVersion]:
        template = Template(
            id=new_id(TEMPLATE),
            account_id=account_id,
            name=name,
            default_locale=locale,
            created_at=now,
            updated_at=now,
        )
        version = TemplateVersion(
            template_id=template.id,
            locale=locale,
            version=1,
            body=body,
            variables=variables,
            created_at=now,
        )

        async def run(conn: AsyncConnection) -> tuple[Template, TemplateVersion]:
            if await conn.scalar(sa.select(templates.c.id).where(_named(account_id, name))):
                raise Conflict(f"a template named {name!r} exists already")
            await conn.execute(
                templates.insert().values({c.name: getattr(template, c.name) for c in templates.c})
            )
            await conn.execute(template_versions.insert().values(_version_row(version)))
            return template, version

        return await self._write(run)

    async def add_template_version(
        self,
        account_id: str,
        name: str,
        *,
        locale: str,
        body: str,
        variables: tuple[str, ...],
        now: datetime,
    ) -> TemplateVersion:
        find = sa.select(templates.c.id).where(_named(account_id, name))
        if self._pg:  # concurrent writers of one template take their numbers in turn
            find = find.with_for_update()

        async def run(conn: AsyncConnection) -> TemplateVersion:
            template_id = await conn.scalar(find)
            if template_id is None:
                raise NotFound(f"template {name!r} not found")
            latest = await conn.scalar(
                sa.select(sa.func.max(template_versions.c.version)).where(
                    template_versions.c.template_id == template_id,
                    template_versions.c.locale == locale,
                )
            )
            version = TemplateVersion(
                template_id=template_id,
                locale=locale,
                version=(latest or 0) + 1,
                body=body,
                variables=variables,
                created_at=now,
            )
            await conn.execute(template_versions.insert().values(_version_row(version)))
            await conn.execute(
                templates.update().where(templates.c.id == template_id).values(updated_at=now)
            )
            return version

        return await self._write(run)

    async def get_template(
        self, account_id: str, name: str, *, version: int | None = None
    ) -> tuple[Template, list[TemplateVersion]]:
        versions_query = template_versions.select().order_by(
            template_versions.c.version.desc(), template_versions.c.locale
        )
        if version is not None:
            versions_query = versions_query.where(template_versions.c.version == version)

        async def run(conn: AsyncConnection) -> tuple[Template, list[TemplateVersion]]:
            row = (await conn.execute(templates.select().where(_named(account_id, name)))).first()
            if row is None:
                raise NotFound(f"template {name!r} not found")
            template = _template(row._mapping)
            rows = await conn.execute(
                versions_query.where(template_versions.c.template_id == template.id)
            )
            return template, [_version(r._mapping) for r in rows]

        return await self._read(run)

    async def list_templates(self, account_id: str) -> list[Template]:
        query = (
            templates.select()
            .where(templates.c.account_id == account_id)
            .order_by(templates.c.name)
        )

        async def run(conn: AsyncConnection) -> list[Template]:
            return [_template(r._mapping) for r in await conn.execute(query)]

        return await self._read(run)

    async def delete_template(self, account_id: str, name: str) -> None:
        async def run(conn: AsyncConnection) -> None:
            template_id = await conn.scalar(
                sa.select(templates.c.id).where(_named(account_id, name))
            )
            if template_id is None:
                raise NotFound(f"template {name!r} not found")
            # SQLite enforces no foreign keys here, so the versions go explicitly.
            await conn.execute(
                template_versions.delete().where(template_versions.c.template_id == template_id)
            )
            await conn.execute(templates.delete().where(templates.c.id == template_id))

        await self._write(run)


def _version_row(version: TemplateVersion) -> dict[str, object]:
    return {
        "template_id": version.template_id,
        "locale": version.locale,
        "version": version.version,
        "body": version.body,
        "variables": list(version.variables),
        "created_at": version.created_at,
    }
