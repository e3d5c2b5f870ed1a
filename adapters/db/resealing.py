"""Re-sealing every channel's stored credentials (and every partner's webhook secret) under
the current secret key.

One transaction: every channel or none. Each row is replaced only if it still holds what
was read (a credentials change made meanwhile is kept, and counted as such).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.tables import channel_configs, partner_endpoints
from adapters.secrets import FernetSecretBox


@dataclass(frozen=True)
class ResealReport:
    resealed: int
    changed_meanwhile: int


class UnopenableCredentials(Exception):
    def __init__(self, channel_id: object):
        super().__init__(
            f"channel {channel_id}: its credentials open with neither NEXO_SECRET_KEY nor "
            "NEXO_PREVIOUS_SECRET_KEY; nothing was re-sealed"
        )


async def reseal_credentials(engine: AsyncEngine, box: FernetSecretBox) -> ResealReport:
    c = channel_configs.c
    resealed = changed = 0
    async with engine.begin() as conn:
        rows = (
            await conn.execute(
                select(c.channel_id, c.credentials).where(c.credentials.is_not(None))
            )
        ).all()
        for row in rows:
            try:
                fresh = box.reseal(row.credentials)
            except ValueError:
                raise UnopenableCredentials(row.channel_id) from None
            result = await conn.execute(
                update(channel_configs)
                .where(c.channel_id == row.channel_id, c.credentials == row.credentials)
                .values(credentials=fresh)
            )
            if result.rowcount:
                resealed += 1
            else:
                changed += 1
        p = partner_endpoints.c
        for row in (await conn.execute(select(p.location_id, p.secret))).all():
            try:
                fresh = box.reseal(row.secret)
            except ValueError:
                raise UnopenableCredentials(f"partner of location {row.location_id}") from None
            result = await conn.execute(
                update(partner_endpoints)
                .where(p.location_id == row.location_id, p.secret == row.secret)
                .values(secret=fresh)
            )
            if result.rowcount:
                resealed += 1
            else:
                changed += 1
    return ResealReport(resealed=resealed, changed_meanwhile=changed)
