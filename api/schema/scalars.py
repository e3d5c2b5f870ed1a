"""Helpers shared by the schema areas."""

from __future__ import annotations

import strawberry

from domain.access import Role as DomainRole

Role = strawberry.enum(DomainRole, name="Role", description="What an API key may do.")
