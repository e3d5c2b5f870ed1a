"""Customer queries: one customer, and the customer book searched and paged."""

from __future__ import annotations

import strawberry

from api.schema.context import Info
from api.schema.customers.types import Customer
from api.schema.errors import query_errors
from api.schema.ids import parse_id
from api.schema.pagination import Connection, connection, page_size
from domain.errors import InvalidInput

MAX_SEARCH = 100


@strawberry.type
class CustomersQuery:
    @strawberry.field(description="One customer (a merged one too: see mergedInto).")
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        with query_errors():
            customer_id = parse_id(id, "id")
        async with info.context.container.uow(readonly=True) as uow:
            found = await uow.customers.get(customer_id)
        return Customer.from_domain(found) if found else None

    @strawberry.field(
        description="Customers newest first (merged ones left out). `search`: part of a "
        f"name, e-mail or phone, any case, at most {MAX_SEARCH} characters."
    )
    async def customers(
        self, info: Info, search: str | None = None, first: int = 20, after: str | None = None
    ) -> Connection[Customer]:
        with query_errors():
            size = page_size(first)
            wanted = search.strip() if search else None
            if wanted and len(wanted) > MAX_SEARCH:
                raise InvalidInput(f"at most {MAX_SEARCH} characters", field="search")
            async with info.context.container.uow(readonly=True) as uow:
                rows = await uow.customers.page(search=wanted, first=size + 1, after=after)
                cursor_of = uow.customers.cursor
        return connection(rows, size, cursor_of, Customer.from_domain)
