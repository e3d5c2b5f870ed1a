"""Customer mutations: a person's merges, unmerges and erasures, each audited."""

from __future__ import annotations

import strawberry

from api.schema.context import Info
from api.schema.customers.types import Customer
from api.schema.errors import UserError, user_errors_as
from api.schema.ids import parse_id
from api.schema.permissions import CanMutate, IsAdmin
from domain.customers.forgetting import forget_customer
from domain.customers.merging import MAX_MERGED, merge_customers, unmerge_customer
from domain.errors import InvalidInput


@strawberry.input
class MergeCustomersInput:
    customer_ids: list[strawberry.ID] = strawberry.field(
        description=f"2 to {MAX_MERGED} customers that are one person."
    )
    into: strawberry.ID | None = strawberry.field(
        default=None, description="The one to keep (one of customerIds); the oldest if not given."
    )


@strawberry.type
class MergeCustomersPayload:
    customer: Customer | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class UnmergeCustomerInput:
    identity_id: strawberry.ID = strawberry.field(
        description="The identity to take out of its customer, into a customer of its own."
    )


@strawberry.type
class UnmergeCustomerPayload:
    customer: Customer | None = strawberry.field(default=None, description="The new customer.")
    previous: Customer | None = strawberry.field(
        default=None, description="The customer it was taken out of."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ForgetCustomerInput:
    customer_id: strawberry.ID


@strawberry.type
class ForgetCustomerPayload:
    customer: Customer | None = None
    erased_identities: int = 0
    erased_orders: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CustomersMutation:
    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Merge customers that are one person: their identities and orders become "
        "one customer's. Audited on each.",
    )
    @user_errors_as(MergeCustomersPayload)
    async def merge_customers(
        self, info: Info, input: MergeCustomersInput
    ) -> MergeCustomersPayload:
        if len(input.customer_ids) > MAX_MERGED:
            raise InvalidInput(f"at most {MAX_MERGED} customers", field="customerIds")
        ids = [parse_id(c, f"customerIds[{n}]") for n, c in enumerate(input.customer_ids)]
        into = parse_id(input.into, "into") if input.into is not None else None
        merged = await merge_customers(
            info.context.container.uow, ids, into=into, actor=info.context.actor
        )
        return MergeCustomersPayload(customer=Customer.from_domain(merged))

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Take an identity (and its orders) out of its customer: matching never "
        "puts it back. Audited on both customers.",
    )
    @user_errors_as(UnmergeCustomerPayload)
    async def unmerge_customer(
        self, info: Info, input: UnmergeCustomerInput
    ) -> UnmergeCustomerPayload:
        identity_id = parse_id(input.identity_id, "identityId")
        left, alone = await unmerge_customer(
            info.context.container.uow, identity_id, actor=info.context.actor
        )
        return UnmergeCustomerPayload(
            customer=Customer.from_domain(alone), previous=Customer.from_domain(left)
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Erase a customer's personal data (name, e-mail, phone, address) on the "
        "customer, its identities and all its orders, keeping every number. Not undoable.",
    )
    @user_errors_as(ForgetCustomerPayload)
    async def forget_customer(
        self, info: Info, input: ForgetCustomerInput
    ) -> ForgetCustomerPayload:
        customer_id = parse_id(input.customer_id, "customerId")
        done = await forget_customer(
            info.context.container.uow, customer_id, actor=info.context.actor
        )
        return ForgetCustomerPayload(
            customer=Customer.from_domain(done.customer),
            erased_identities=done.identities,
            erased_orders=done.orders,
        )
