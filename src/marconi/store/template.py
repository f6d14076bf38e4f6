"""Message templates: the records and the repository interface services use.

A template has a name unique in its account and a default locale; each locale has its own
versions, numbered from 1, which never change once written. The SQL implementation is in
:mod:`marconi.store.template_sql`; :func:`template_repository_for` finds it for a store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

__all__ = [
    "TEMPLATE",
    "Template",
    "TemplateRepository",
    "TemplateVersion",
    "template_repository_for",
]

TEMPLATE: Final = "HX"  # the id prefix


@dataclass(frozen=True, slots=True, kw_only=True)
class Template:
    id: str
    account_id: str
    name: str
    default_locale: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateVersion:
    template_id: str
    locale: str
    version: int
    body: str
    variables: tuple[str, ...]  # in order of first use in body
    created_at: datetime


class TemplateRepository(Protocol):
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
        """A template with version 1 in ``locale`` (its default); Conflict when the account has
        one of that name."""
        ...

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
        """The next version in ``locale`` (1 for a new locale); NotFound without the template."""
        ...

    async def get_template(
        self, account_id: str, name: str, *, version: int | None = None
    ) -> tuple[Template, list[TemplateVersion]]:
        """The template and its versions (only those numbered ``version`` when given), newest
        first; NotFound without the template."""
        ...

    async def list_templates(self, account_id: str) -> list[Template]: ...

    async def delete_template(self, account_id: str, name: str) -> None: ...


def template_repository_for(store: object) -> TemplateRepository:
    """The templates of ``store``'s accounts: its database, for a SQL store (or a wrapper that
    passes its attributes through)."""
    from marconi.store.attached import is_sql_store
    from marconi.store.template_sql import SqlTemplateRepository

    if is_sql_store(store):
        return SqlTemplateRepository(store)
    raise TypeError(f"no template repository for {type(store).__name__}")
