"""The customer book in SQL: customers, their channel identities, the audit trail, and the
numbers of their orders."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.cursors import before_position, encode_cursor
from adapters.db.dialect import as_date, is_postgresql, utc_day
from adapters.db.line_units import kept_units
from adapters.db.tables import customer_audit, customer_identities, customers, order_lines, orders
from domain.customers.matching import Candidate, MatchKeys, Rule
from domain.customers.model import AuditEntry, Buyer, Customer, Identity
from domain.customers.ports import ValueRow

_ids = customer_identities.c
_orders = orders.c
_KEY_COLUMNS = {Rule.EMAIL: _ids.email_key, Rule.PHONE: _ids.phone_key,
                Rule.ADDRESS_AND_NAME: _ids.address_key}  # fmt: skip


PHONE_CHARACTERS = frozenset("0123456789 +-().")


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _search_text(customer: Customer) -> str | None:
    """Name, e-mail and phone in lower case and the phone's digits alone (a phone is found
    however it is written), one string: trigram-indexed on PostgreSQL (migration 0022)."""
    parts = [p.lower() for p in (customer.name, customer.email, customer.phone) if p]
    if digits := _digits(customer.phone or ""):
        parts.append(digits)
    return " | ".join(parts)[:800] or None


def search_clause(search: str) -> ColumnElement[bool]:
    """Customers whose search text holds `search` (any case; wildcards are characters), or
    its digits when it is written as a phone: substring matches, which PostgreSQL answers
    from the trigram index (ix_customers_search_text_trgm)."""
    terms = {search.lower()}
    digits = _digits(search)
    if len(digits) >= 3 and set(search) <= PHONE_CHARACTERS:
        terms.add(digits)  # a phone as written another way
    return or_(*(customers.c.search_text.contains(t, autoescape=True) for t in sorted(terms)))


def _customer_row(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "search_text": _search_text(customer),
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
        "merged_into": customer.merged_into,
        "forgotten_at": customer.forgotten_at,
    }


def _customer(row: Any) -> Customer:
    return Customer(
        row.id, row.name, row.email, row.phone, row.created_at, row.updated_at,
        row.merged_into, row.forgotten_at,
    )  # fmt: skip


def _identity_row(identity: Identity) -> dict[str, Any]:
    return {
        "id": identity.id,
        "channel_id": identity.channel_id,
        "buyer_ref": identity.buyer_ref,
        "customer_id": identity.customer_id,
        "name": identity.name,
        "email": identity.email,
        "phone": identity.phone,
        "address": dict(identity.address),
        "email_key": identity.keys.email,
        "phone_key": identity.keys.phone,
        "address_key": identity.keys.address_and_name,
        "rule": identity.rule.value,
        "evidence": identity.evidence,
        "linked_at": identity.linked_at,
        "linked_by": identity.linked_by[:100],
        "first_seen_at": identity.first_seen_at,
        "last_seen_at": identity.last_seen_at,
        "forgotten": identity.forgotten,
    }


def _identity(row: Any) -> Identity:
    return Identity(
        id=row.id, channel_id=row.channel_id, buyer_ref=row.buyer_ref,
        customer_id=row.customer_id, name=row.name, email=row.email, phone=row.phone,
        address=dict(row.address or {}),
        keys=MatchKeys(row.email_key, row.phone_key, row.address_key), rule=Rule(row.rule),
        evidence=row.evidence, linked_at=row.linked_at, linked_by=row.linked_by,
        first_seen_at=row.first_seen_at, last_seen_at=row.last_seen_at,
        forgotten=row.forgotten,
    )  # fmt: skip


def _lock_number(key: str) -> int:
    """A match key as a PostgreSQL advisory lock number (a signed 64-bit integer)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


class SqlCustomerRepository:
    def __init__(self, connection: AsyncConnection):
        self._conn = connection

    async def unmatched_buyers(self, limit: int) -> list[Buyer]:
        stmt = (
            select(
                _orders.id, _orders.channel_id, _orders.external_id, _orders.customer_buyer_id,
                _orders.customer_name, _orders.customer_email, _orders.customer_phone,
                _orders.shipping_address, _orders.placed_at,
            )
            .where(_orders.customer_identity_id.is_(None))
            .order_by(_orders.placed_at, _orders.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )  # fmt: skip
        return [
            Buyer(
                r.id,
                r.channel_id,
                r.external_id,
                r.customer_buyer_id,
                r.customer_name,
                r.customer_email,
                r.customer_phone,
                dict(r.shipping_address or {}),
                r.placed_at,
            )
            for r in await self._conn.execute(stmt)
        ]

    async def lock_keys(self, keys: Sequence[str]) -> None:
        # SQLite has one writer at a time (BEGIN IMMEDIATE): the matcher holds it already.
        if not keys or not is_postgresql(self._conn):
            return
        numbers = sorted({_lock_number(key) for key in keys})
        stmt = text(
            "SELECT pg_advisory_xact_lock(k) FROM unnest(:keys) WITH ORDINALITY AS t(k, n) "
            "ORDER BY n"
        ).bindparams(bindparam("keys", type_=ARRAY(BigInteger)))
        await self._conn.execute(stmt, {"keys": numbers})

    async def identity_by_ref(self, channel_id: uuid.UUID, buyer_ref: str) -> Identity | None:
        stmt = select(customer_identities).where(
            _ids.channel_id == channel_id, _ids.buyer_ref == buyer_ref
        )
        row = (await self._conn.execute(stmt)).first()
        return _identity(row) if row else None

    async def identity(self, identity_id: uuid.UUID) -> Identity | None:
        row = (
            await self._conn.execute(select(customer_identities).where(_ids.id == identity_id))
        ).first()
        return _identity(row) if row else None

    async def identity_of_order(self, order_id: uuid.UUID) -> Identity | None:
        stmt = (
            select(customer_identities)
            .join(orders, _orders.customer_identity_id == _ids.id)
            .where(_orders.id == order_id)
        )
        row = (await self._conn.execute(stmt)).first()
        return _identity(row) if row else None

    async def identities(self, customer_ids: Sequence[uuid.UUID]) -> list[Identity]:
        if not customer_ids:
            return []
        stmt = (
            select(customer_identities)
            .where(_ids.customer_id.in_(list(customer_ids)))
            .order_by(_ids.first_seen_at, _ids.id)
        )
        return [_identity(r) for r in await self._conn.execute(stmt)]

    async def customers_of_orders(
        self, order_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, uuid.UUID]:
        # A merge moves the identities to the customer merged into: no chain to follow.
        if not order_ids:
            return {}
        stmt = (
            select(_orders.id, _ids.customer_id)
            .join(customer_identities, _ids.id == _orders.customer_identity_id)
            .where(_orders.id.in_(list(order_ids)))
        )
        return {r.id: r.customer_id for r in await self._conn.execute(stmt)}

    async def candidates(self, keys: MatchKeys) -> list[Candidate]:
        present = keys.present()
        if not present:
            return []
        stmt = (
            select(customer_identities, customers.c.created_at.label("customer_since"))
            .join(customers, customers.c.id == _ids.customer_id)
            .where(
                or_(*(_KEY_COLUMNS[rule] == key for rule, key in present)),
                customers.c.merged_into.is_(None),
                customers.c.forgotten_at.is_(None),
            )
            .order_by(_ids.id)
        )
        found: dict[tuple[uuid.UUID, Rule], Candidate] = {}
        for row in await self._conn.execute(stmt):
            held = MatchKeys(row.email_key, row.phone_key, row.address_key)
            for rule, key in present:
                if held.of(rule) == key and (row.customer_id, rule) not in found:
                    found[(row.customer_id, rule)] = Candidate(
                        row.customer_id, row.customer_since, rule, key, row.id
                    )
        return list(found.values())

    async def add_customer(self, customer: Customer) -> None:
        await self._conn.execute(insert(customers).values(_customer_row(customer)))

    async def save_customer(self, customer: Customer) -> None:
        row = _customer_row(customer)
        row.pop("created_at")
        await self._conn.execute(
            update(customers).where(customers.c.id == row.pop("id")).values(row)
        )

    async def get(self, customer_id: uuid.UUID) -> Customer | None:
        row = (
            await self._conn.execute(select(customers).where(customers.c.id == customer_id))
        ).first()
        return _customer(row) if row else None

    async def lock(self, customer_ids: Sequence[uuid.UUID]) -> list[Customer]:
        if not customer_ids:
            return []
        stmt = (
            select(customers)
            .where(customers.c.id.in_(list(customer_ids)))
            .order_by(customers.c.id)
            .with_for_update()
        )
        return [_customer(r) for r in await self._conn.execute(stmt)]

    async def merged_from(self, customer_id: uuid.UUID) -> list[Customer]:
        stmt = (
            select(customers)
            .where(customers.c.merged_into == customer_id)
            .order_by(customers.c.id)
            .with_for_update()
        )
        return [_customer(r) for r in await self._conn.execute(stmt)]

    async def add_identity(self, identity: Identity) -> None:
        await self._conn.execute(insert(customer_identities).values(_identity_row(identity)))

    async def save_identity(self, identity: Identity) -> None:
        row = _identity_row(identity)
        await self._conn.execute(
            update(customer_identities).where(_ids.id == row.pop("id")).values(row)
        )

    async def link_orders(self, links: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> None:
        if not links:
            return
        await self._conn.execute(
            update(orders)
            .where(_orders.id == bindparam("o_id"))
            .values(customer_identity_id=bindparam("i_id")),
            [{"o_id": order_id, "i_id": identity_id} for order_id, identity_id in links],
        )

    async def add_audit(self, entry: AuditEntry) -> None:
        await self._conn.execute(
            insert(customer_audit).values(
                id=entry.id, customer_id=entry.customer_id, action=entry.action,
                actor=entry.actor[:100], detail=entry.detail, at=entry.at,
            )
        )  # fmt: skip

    async def audit(self, customer_id: uuid.UUID) -> list[AuditEntry]:
        c = customer_audit.c
        stmt = select(customer_audit).where(c.customer_id == customer_id).order_by(c.at, c.id)
        return [
            AuditEntry(r.id, r.customer_id, r.action, r.actor, r.detail, r.at)
            for r in await self._conn.execute(stmt)
        ]

    async def page(self, *, search: str | None, first: int, after: str | None) -> list[Customer]:
        c = customers.c
        stmt = select(customers).where(c.merged_into.is_(None))
        if search:
            stmt = stmt.where(search_clause(search))
        if after:
            stmt = stmt.where(before_position(c.created_at, c.id, after))
        stmt = stmt.order_by(c.created_at.desc(), c.id.desc()).limit(first)
        return [_customer(r) for r in await self._conn.execute(stmt)]

    def cursor(self, customer: Customer) -> str:
        return encode_cursor(customer.created_at.isoformat(), customer.id)

    def _of_customers(self, customer_ids: Sequence[uuid.UUID]) -> Any:
        return select(_ids.id).where(_ids.customer_id.in_(list(customer_ids)))

    async def order_ids(
        self,
        customer_id: uuid.UUID,
        *,
        first: int,
        after: str | None,
        statuses: Sequence[str] | None = None,
    ) -> list[tuple[uuid.UUID, str]]:
        stmt = select(_orders.id, _orders.placed_at).where(
            _orders.customer_identity_id.in_(self._of_customers([customer_id]))
        )
        if statuses is not None:
            stmt = stmt.where(_orders.status.in_(list(statuses)))
        if after:
            stmt = stmt.where(before_position(_orders.placed_at, _orders.id, after))
        stmt = stmt.order_by(_orders.placed_at.desc(), _orders.id.desc()).limit(first)
        return [
            (r.id, encode_cursor(r.placed_at.isoformat(), r.id))
            for r in await self._conn.execute(stmt)
        ]

    async def counts(
        self, customer_ids: Sequence[uuid.UUID], open_statuses: Sequence[str]
    ) -> dict[uuid.UUID, tuple[int, int, datetime | None, datetime | None]]:
        if not customer_ids:
            return {}
        is_open = case((_orders.status.in_(list(open_statuses)), 1), else_=0)
        stmt = (
            select(
                _ids.customer_id, func.count(_orders.id), func.sum(is_open),
                func.min(_orders.placed_at), func.max(_orders.placed_at),
            )
            .select_from(orders.join(customer_identities, _ids.id == _orders.customer_identity_id))
            .where(_ids.customer_id.in_(list(customer_ids)))
            .group_by(_ids.customer_id)
        )  # fmt: skip
        return {
            r[0]: (int(r[1]), int(r[2] or 0), r[3], r[4]) for r in await self._conn.execute(stmt)
        }

    async def values(self, customer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[ValueRow]]:
        if not customer_ids:
            return {}
        lines = order_lines.c
        day = utc_day(self._conn, _orders.placed_at)
        stmt = (
            select(
                _ids.customer_id, _orders.channel_id, lines.currency, day.label("day"),
                func.count(func.distinct(_orders.id)),
                func.sum(lines.unit_price_minor * kept_units()),
            )
            .select_from(
                order_lines.join(orders, _orders.id == lines.order_id).join(
                    customer_identities, _ids.id == _orders.customer_identity_id
                )
            )
            .where(
                _ids.customer_id.in_(list(customer_ids)),
                lines.unit_price_minor.is_not(None),
                lines.currency.is_not(None),
            )
            .group_by(_ids.customer_id, _orders.channel_id, lines.currency, day)
        )  # fmt: skip
        found: dict[uuid.UUID, list[ValueRow]] = {}
        for r in await self._conn.execute(stmt):
            row = (r[1], r[2], as_date(r[3]), int(r[4]), int(r[5] or 0))
            found.setdefault(r[0], []).append(row)
        return found

    async def erase_orders(self, customer_id: uuid.UUID) -> int:
        result = await self._conn.execute(
            update(orders)
            .where(_orders.customer_identity_id.in_(self._of_customers([customer_id])))
            .values(
                customer_name=None, customer_email=None, customer_phone=None,
                customer_buyer_id=None, shipping_address={},
            )
        )  # fmt: skip
        return int(result.rowcount)
