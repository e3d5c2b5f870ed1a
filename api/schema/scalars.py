"""Helpers shared by the schema areas."""

from __future__ import annotations

import strawberry

from domain.access import Role as DomainRole

# strawberry.enum marks the domain's own enum (and returns it): fields name that type.
Role = DomainRole
strawberry.enum(Role, name="Role", description="What an API key may do.")
