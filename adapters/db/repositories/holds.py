"""The statements of a batch of holds (`holding.hold_all`) on PostgreSQL.

A batch locks its SKUs' levels and reads them, claims its keys, and adds the reservations
and ledger rows of the keys it claimed. Through SQLAlchemy those were five statements,
three of them `executemany` inserts and two `IN` lists rendered anew for each batch size:
about a seventh of an API process's CPU on `reserveStock` at 10,000 SKUs. Here they are
statements of fixed text, run on the driver (`DriverStatement`), whose rows travel as
arrays: the lock, the read, and one statement (`HOLD`) that claims the keys, writes the rows
of the keys it claimed, and changes the levels (and SKU totals) their reservations hold, each
level only if it has them. SQLite runs the plain statements one by one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text

from adapters.db.driver import DriverStatement
from domain.inventory.idempotency import Operation
from domain.inventory.model import Movement, Reservation

LOCK_LEVELS = DriverStatement(
    text(
        "SELECT id FROM stock_levels WHERE sku = ANY(CAST(:skus AS text[]))"
        " ORDER BY sku, location_id FOR UPDATE"
    )
)

# A batch of carts' holds (placeOrder), handed to their orders: fixed text for any number.
HAND_OVER = DriverStatement(
    text("""
    UPDATE reservations AS r SET reference = o.reference, expires_at = NULL
      FROM unnest(CAST(:ids AS uuid[]), CAST(:references AS text[])) AS o (id, reference)
     WHERE r.id = o.id AND r.status = 'active'
    RETURNING r.id
    """)
)

# The keys claimed, and the reservations and ledger rows of the keys claimed: the common
# start of both statements.
_RECORD = """
    claim AS (
        INSERT INTO operations (key, kind, fingerprint, actor, result, created_at)
        SELECT * FROM unnest(
            CAST(:keys AS text[]), CAST(:kinds AS text[]), CAST(:fingerprints AS text[]),
            CAST(:actors AS text[]), CAST(:results AS jsonb[]), CAST(:claimed_at AS timestamptz[]))
        ON CONFLICT (key) DO NOTHING
        RETURNING key
    ), held AS (
        INSERT INTO reservations (id, sku, location_id, quantity, status, reference,
                                  created_at, expires_at, closed_at)
        SELECT r.id, r.sku, r.location_id, r.quantity, r.status, r.reference, r.created_at,
               r.expires_at, r.closed_at
          FROM unnest(
            CAST(:r_keys AS text[]), CAST(:r_ids AS uuid[]), CAST(:r_skus AS text[]),
            CAST(:r_locations AS uuid[]), CAST(:r_quantities AS integer[]),
            CAST(:r_statuses AS text[]), CAST(:r_references AS text[]),
            CAST(:r_created AS timestamptz[]), CAST(:r_expires AS timestamptz[]),
            CAST(:r_closed AS timestamptz[]))
            AS r (key, id, sku, location_id, quantity, status, reference, created_at,
                  expires_at, closed_at)
         WHERE r.key IN (SELECT key FROM claim)
        RETURNING sku, location_id, quantity
    ), ledger AS (
        INSERT INTO stock_movements (id, sku, location_id, on_hand_delta, reserved_delta,
                                     reason, actor, operation_key, reference, note, detail,
                                     reservation_id, created_at)
        SELECT * FROM unnest(
            CAST(:m_ids AS uuid[]), CAST(:m_skus AS text[]), CAST(:m_locations AS uuid[]),
            CAST(:m_on_hand AS integer[]), CAST(:m_reserved AS integer[]),
            CAST(:m_reasons AS text[]), CAST(:m_actors AS text[]), CAST(:m_keys AS text[]),
            CAST(:m_references AS text[]), CAST(:m_notes AS text[]), CAST(:m_details AS text[]),
            CAST(:m_reservations AS uuid[]), CAST(:m_created AS timestamptz[]))
            AS m (id, sku, location_id, on_hand_delta, reserved_delta, reason, actor,
                  operation_key, reference, note, detail, reservation_id, created_at)
         WHERE m.operation_key IN (SELECT key FROM claim)
    )
"""

RECORD_HOLDS = DriverStatement(text(f"WITH {_RECORD} SELECT key FROM claim"))

HOLD = DriverStatement(
    text(f"""
    WITH {_RECORD}, delta AS (
        SELECT h.sku, h.location_id, CAST(sum(h.quantity) AS integer) AS reserved_delta,
               CASE WHEN bool_or(s.sellable) THEN -CAST(sum(h.quantity) AS integer) ELSE 0 END
                 AS available_delta
          FROM held AS h
          LEFT JOIN unnest(CAST(:s_skus AS text[]), CAST(:s_locations AS uuid[]),
                           CAST(:s_sellable AS boolean[])) AS s (sku, location_id, sellable)
            ON s.sku = h.sku AND s.location_id = h.location_id
         GROUP BY h.sku, h.location_id
    ), level AS (
        UPDATE stock_levels AS l
           SET reserved = l.reserved + d.reserved_delta, version = l.version + 1
          FROM delta AS d
         WHERE l.sku = d.sku AND l.location_id = d.location_id
           AND l.on_hand >= l.reserved + d.reserved_delta
     RETURNING l.sku, l.location_id, l.on_hand, l.reserved, l.version, d.available_delta
    ), total AS (
        SELECT sku, sum(available_delta) AS delta
          FROM level GROUP BY sku HAVING bool_or(available_delta <> 0)
    ), item AS (
        UPDATE inventory_items AS i SET available = i.available + t.delta
          FROM total AS t
         WHERE i.sku = t.sku
     RETURNING i.sku, i.available
    )
    SELECT key AS sku, CAST(NULL AS uuid) AS location_id, CAST(NULL AS integer) AS on_hand,
           CAST(NULL AS integer) AS reserved, CAST(NULL AS integer) AS version,
           CAST(NULL AS integer) AS available, true AS claimed
      FROM claim
    UNION ALL
    SELECT level.sku, level.location_id, level.on_hand, level.reserved, level.version,
           item.available, false AS claimed
      FROM level LEFT JOIN item ON item.sku = level.sku
    """)
)


def record_holds_params(
    claims: Sequence[Operation],
    held: Sequence[tuple[str, Reservation]],
    movements: Sequence[Movement],
) -> dict[str, list[Any]]:
    """The arrays of `RECORD_HOLDS`: the claims, the reservations by key, the ledger rows."""
    return {
        "keys": [c.key for c in claims],
        "kinds": [c.kind for c in claims],
        "fingerprints": [c.fingerprint for c in claims],
        "actors": [c.actor for c in claims],
        "results": [None if c.result is None else json.dumps(dict(c.result)) for c in claims],
        "claimed_at": [c.created_at for c in claims],
        "r_keys": [key for key, _ in held],
        "r_ids": [r.id for _, r in held],
        "r_skus": [r.sku for _, r in held],
        "r_locations": [r.location_id for _, r in held],
        "r_quantities": [r.quantity for _, r in held],
        "r_statuses": [r.status.value for _, r in held],
        "r_references": [r.reference for _, r in held],
        "r_created": [r.created_at for _, r in held],
        "r_expires": [r.expires_at for _, r in held],
        "r_closed": [r.closed_at for _, r in held],
        "m_ids": [m.id for m in movements],
        "m_skus": [m.sku for m in movements],
        "m_locations": [m.location_id for m in movements],
        "m_on_hand": [m.on_hand_delta for m in movements],
        "m_reserved": [m.reserved_delta for m in movements],
        "m_reasons": [m.reason.value for m in movements],
        "m_actors": [m.actor for m in movements],
        "m_keys": [m.operation_key for m in movements],
        "m_references": [m.reference for m in movements],
        "m_notes": [m.note for m in movements],
        "m_details": [m.detail for m in movements],
        "m_reservations": [m.reservation_id for m in movements],
        "m_created": [m.created_at for m in movements],
    }
