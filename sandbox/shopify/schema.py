"""The executable Admin API schema: Shopify's own 2026-01 SDL with the sandbox's resolvers.

Documents are validated against the real schema, so anything Shopify would refuse as invalid is
refused here too; only the fields the sandbox implements have resolvers. Input lists longer than
250 are refused as Shopify refuses them (MAX_INPUT_SIZE_EXCEEDED), except `productSet`'s
variants, which Shopify allows up to the 2048-variant limit.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from typing import Any

from graphql import GraphQLError, GraphQLObjectType, GraphQLSchema, build_schema

from sandbox import specs
from sandbox.shopify.context import Info
from sandbox.shopify.mutations import MUTATION
from sandbox.shopify.objects import RESOLVERS
from sandbox.shopify.queries import QUERY
from sandbox.shopify.scalars import bind_scalars

API_VERSION = "2026-01"
# Shopify's own SDL, kept (gzipped) in the repository: see sandbox/specs.
SDL_NAME = f"admin-graphql-{API_VERSION}.graphql"
MAX_INPUT_SIZE = 250
LONG_LISTS_ALLOWED = {("productSet", "input", "variants")}


@cache
def admin_schema() -> GraphQLSchema:
    """Built once per process (about a second and a half): Shopify's schema is large."""
    # assume_valid: graphql-core 3.3 refuses deprecated fields implementing undeprecated
    # interface fields (Node.id…), which Shopify's own schema has.
    schema = build_schema(specs.read(SDL_NAME), assume_valid=True)
    bind_scalars(schema)
    for type_name, fields in RESOLVERS.items():
        _bind(schema, type_name, fields)
    assert schema.query_type is not None
    assert schema.mutation_type is not None
    _bind(schema, schema.query_type.name, {k: _limited(v) for k, v in QUERY.items()})
    _bind(schema, schema.mutation_type.name, {k: _limited(v) for k, v in MUTATION.items()})
    return schema


@cache
def idempotent_fields() -> frozenset[str]:
    """Mutations whose description documents `@idempotent` support (the directive is refused
    elsewhere, as Shopify refuses it)."""
    mutation = admin_schema().mutation_type
    assert mutation is not None
    return frozenset(
        name
        for name, field in mutation.fields.items()
        if field.description and "@idempotent" in field.description
    )


def _bind(schema: GraphQLSchema, type_name: str, resolvers: dict[str, Callable[..., Any]]) -> None:
    kind = schema.type_map[type_name]
    assert isinstance(kind, GraphQLObjectType)
    for field_name, resolve in resolvers.items():
        kind.fields[field_name].resolve = resolve


def _limited(resolve: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(resolve)
    def check_sizes(root: Any, info: Info, **args: Any) -> Any:
        for name, value in args.items():
            _check(value, (info.field_name, name))
        return resolve(root, info, **args)

    return check_sizes


def _check(value: Any, path: tuple[str, ...]) -> None:
    if isinstance(value, list):
        if len(value) > MAX_INPUT_SIZE and path not in LONG_LISTS_ALLOWED:
            raise GraphQLError(
                f"The input array size of {len(value)} is greater than the maximum allowed of "
                f"{MAX_INPUT_SIZE}.",
                extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
            )
        for entry in value:
            _check(entry, path)
    elif isinstance(value, dict):
        for key, entry in value.items():
            _check(entry, (*path, key))
