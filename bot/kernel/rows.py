"""Loading a row that must be there: the one place a missing row becomes a refusal, not an AttributeError."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel.errors import UserError

RowT = TypeVar("RowT")

GONE = "That no longer exists (it may have been removed a moment ago); nothing was changed."


async def get_or_refuse(session: AsyncSession, model: type[RowT], ident: object, refusal: str = GONE) -> RowT:
    """The `model` row with primary key `ident`; refuse with `refusal` when there is none (a stale button,
    an id typed by hand, a row removed by someone else): the transaction rolls back and the person is told."""
    row = await session.get(model, ident)
    if row is None:
        raise UserError(refusal)
    return row


class MissingRow(LookupError):
    """A row the data model guarantees (a foreign key, a claimed outbox message) is not there: a bug or a
    concurrent delete, never something the person did."""


async def must_get(session: AsyncSession, model: type[RowT], ident: object) -> RowT:
    """The `model` row with primary key `ident`, which the data model says exists (the target of a
    foreign key, a row this worker holds a lease on). Raises MissingRow, naming both, when it does not."""
    row = await session.get(model, ident)
    if row is None:
        raise MissingRow(f"{model.__name__} {ident!r} not found")
    return row
