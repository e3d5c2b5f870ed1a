"""Every argument of every operation is checked at the edge: walked from the schema's own
introspection, so a field added tomorrow is walked too.

For each string anywhere in an operation's arguments (nested inputs and lists included),
a NUL, a lone surrogate, a control character and a string over its cap each answer a typed
error naming that field (a mutation's `userErrors`, a query's or subscription's error
code), never the masked internal error; every list over its cap likewise; and nothing is
written by any of them.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from api.schema.edge import DEFAULT_LIST_CAP, list_cap, string_cap
from tests.graphql import data, gql, websocket

INTROSPECT = """
fragment Ref on __Type { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name } } } } }
{ __schema {
  queryType { name } mutationType { name } subscriptionType { name }
  types { name kind
    fields { name args { name type { ...Ref } } type { ...Ref } }
    inputFields { name type { ...Ref } }
    enumValues { name }
  }
} }"""
PLACEHOLDERS: dict[str, Any] = {
    "String": "a",
    "ID": str(uuid.UUID(int=1)),
    "Int": 1,
    "Boolean": False,
    "DateTime": "2026-01-01T00:00:00+00:00",
    "JSON": {},
}
BAD_STRINGS = {
    "NUL": "a\x00b",
    "lone surrogate": "a\ud800b",
    "control character": "a\x1bb",
}


@dataclass(frozen=True)
class Slot:
    """A place for a value in an operation's arguments: its path and GraphQL type."""

    path: tuple[str | int, ...]
    kind: str  # the named type
    is_list: bool
    name: str  # the field or argument name that holds it


class Schema:
    def __init__(self, introspection: dict[str, Any]):
        self.types = {t["name"]: t for t in introspection["types"]}
        self.roots = {
            "query": introspection["queryType"]["name"],
            "mutation": introspection["mutationType"]["name"],
            "subscription": introspection["subscriptionType"]["name"],
        }

    @staticmethod
    def unwrap(ref: dict[str, Any]) -> tuple[str, bool, bool]:
        """(named type, is a list, is required) of a type reference."""
        required = ref["kind"] == "NON_NULL"
        is_list = False
        while ref["kind"] in ("NON_NULL", "LIST"):
            is_list = is_list or ref["kind"] == "LIST"
            ref = ref["ofType"]
        return ref["name"], is_list, required

    @staticmethod
    def literal_type(ref: dict[str, Any]) -> str:
        if ref["kind"] == "NON_NULL":
            return Schema.literal_type(ref["ofType"]) + "!"
        if ref["kind"] == "LIST":
            return "[" + Schema.literal_type(ref["ofType"]) + "]"
        return str(ref["name"])

    def minimal(self, kind: str) -> Any:
        """A value of named type `kind` with only its required fields, each a placeholder."""
        found = self.types[kind]
        if found["kind"] == "ENUM":
            return found["enumValues"][0]["name"]
        if found["kind"] != "INPUT_OBJECT":
            return PLACEHOLDERS[kind]
        value = {}
        for field in found["inputFields"]:
            inner, is_list, required = self.unwrap(field["type"])
            if required:
                value[field["name"]] = [] if is_list else self.minimal(inner)
        return value

    def slots(
        self, kind: str, path: tuple[str | int, ...], name: str, is_list: bool
    ) -> Iterator[Slot]:
        """Every place in a value of `kind` (and `path`) a string or a list can go."""
        yield Slot(path, kind, is_list, name)
        found = self.types[kind]
        if found["kind"] != "INPUT_OBJECT":
            return
        if is_list:
            path = (*path, 0)
        for field in found["inputFields"]:
            inner, inner_list, _ = self.unwrap(field["type"])
            yield from self.slots(inner, (*path, field["name"]), field["name"], inner_list)


def place(arguments: dict[str, Any], slot: Slot, bad: Any) -> dict[str, Any]:
    """`arguments` with `bad` at `slot`, making the inputs and one-item lists on the way."""
    root = dict(arguments)
    holder: Any = root
    steps = slot.path
    for step, following in itertools.pairwise(steps):
        if isinstance(step, int):
            continue  # the list was made one item long at its own step
        if isinstance(following, int):
            items = holder.get(step) or [{}]
            holder[step] = [dict(items[0])]
            holder = holder[step][0]
        else:
            holder[step] = dict(holder.get(step) or {})
            holder = holder[step]
    holder[steps[-1]] = bad
    return root


def _fill_required(schema: Schema, value: Any, kind: str) -> Any:
    """Required fields of inputs created on the way get placeholders."""
    found = schema.types.get(kind)
    if not found or found["kind"] != "INPUT_OBJECT" or not isinstance(value, dict):
        return value
    filled = schema.minimal(kind)
    for field in found["inputFields"]:
        inner, is_list, _ = schema.unwrap(field["type"])
        if field["name"] in value:
            given = value[field["name"]]
            if is_list and isinstance(given, list):
                filled[field["name"]] = [_fill_required(schema, v, inner) for v in given]
            else:
                filled[field["name"]] = _fill_required(schema, given, inner)
    return filled


def field_path(path: tuple[str | int, ...]) -> str:
    """The error's `field`: from inside `input`, as the domain names fields."""
    parts = list(path)
    if parts and parts[0] == "input":
        parts = parts[1:]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


async def post(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], key: str
) -> dict[str, Any]:
    """As `gql`, with non-ASCII escaped: a lone surrogate cannot be encoded as UTF-8."""
    response = await http.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def schema(http: httpx.AsyncClient, admin_key: str) -> Schema:
    return Schema(data(await gql(http, INTROSPECT, key=admin_key))["__schema"])


def operations(schema: Schema, operation: str) -> Iterator[tuple[str, dict[str, Any]]]:
    root = schema.types[schema.roots[operation]]
    for field in root["fields"]:
        if field["args"]:
            yield field["name"], field


def document(operation: str, field: dict[str, Any], schema: Schema) -> str:
    declared = ", ".join(f"${a['name']}: {Schema.literal_type(a['type'])}" for a in field["args"])
    passed = ", ".join(f"{a['name']}: ${a['name']}" for a in field["args"])
    named, _, _ = Schema.unwrap(field["type"])
    selection = ""
    found = schema.types[named]
    if found["kind"] in ("OBJECT", "INTERFACE"):
        names = {f["name"] for f in found["fields"]}
        selection = (
            "{ userErrors { field code message } }" if "userErrors" in names else "{ __typename }"
        )
    return f"{operation}({declared}) {{ {field['name']}({passed}) {selection} }}"


Placement = tuple[Slot, Any, str]  # where, what value, and the error's expected field


def cases(schema: Schema, field: dict[str, Any]) -> Iterator[tuple[str, list[Placement]]]:
    """Requests to make: each bad string at every string slot at once (the edge reports
    every field at fault), and each list over its cap alone."""
    strings: list[Slot] = []
    for argument in field["args"]:
        kind, is_list, _ = Schema.unwrap(argument["type"])
        for slot in schema.slots(kind, (argument["name"],), argument["name"], is_list):
            if slot.is_list:
                items = [schema.minimal(slot.kind)] * (list_cap(slot.name) + 1)
                yield "list over its cap", [(slot, items, field_path(slot.path))]
            if slot.kind in ("String", "ID"):
                strings.append(slot)
    if not strings:
        return
    for what, bad in BAD_STRINGS.items():
        yield what, [_string_at(slot, bad) for slot in strings]
    yield (
        "string over its cap",
        [_string_at(slot, "a" * (string_cap(slot.name) + 1)) for slot in strings],
    )


def _string_at(slot: Slot, bad: str) -> Placement:
    if slot.is_list:
        return slot, [bad], field_path((*slot.path, 0))
    return slot, bad, field_path(slot.path)


def variables_for(
    schema: Schema, field: dict[str, Any], placements: list[Placement]
) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    for argument in field["args"]:
        kind, is_list, required = Schema.unwrap(argument["type"])
        if required:
            variables[argument["name"]] = [] if is_list else schema.minimal(kind)
    for slot, bad, _ in placements:
        variables = place(variables, slot, bad)
    for argument in field["args"]:
        kind, is_list, _ = Schema.unwrap(argument["type"])
        name = argument["name"]
        if name in variables and not is_list:
            variables[name] = _fill_required(schema, variables[name], kind)
    return variables


async def test_every_mutation_field_refuses_bad_strings_and_long_lists(
    http: httpx.AsyncClient, admin_key: str, schema: Schema
) -> None:
    checked = 0
    for name, field in operations(schema, "mutation"):
        query = document("mutation", field, schema)
        for what, placements in cases(schema, field):
            body = await post(http, query, variables_for(schema, field, placements), admin_key)
            assert not body.get("errors"), (name, what, body["errors"])
            found = {(e["field"], e["code"]) for e in body["data"][name]["userErrors"]}
            for _, _, path in placements:
                assert (path, "INVALID_INPUT") in found, (name, what, path, found)
                checked += 1
    assert checked > 400  # every mutation's every string and list, five ways each
    # Nothing was written by any of them.
    assert data(await gql(http, "{ locations { id } channels { id } }", key=admin_key)) == {
        "locations": [],
        "channels": [],
    }
    products = data(await gql(http, "{ products { edges { node { id } } } }", key=admin_key))
    assert products["products"]["edges"] == []
    keys = data(await gql(http, "{ apiKeys { name } }", key=admin_key))["apiKeys"]
    assert {k["name"] for k in keys} == {"bootstrap-admin", "test-admin"}


async def test_every_query_argument_refuses_bad_strings_and_long_lists(
    http: httpx.AsyncClient, admin_key: str, schema: Schema
) -> None:
    checked = 0
    for name, field in operations(schema, "query"):
        query = document("query", field, schema)
        for what, placements in cases(schema, field):
            body = await post(http, query, variables_for(schema, field, placements), admin_key)
            assert body.get("errors"), (name, what)
            extensions = body["errors"][0].get("extensions") or {}
            assert extensions.get("code") == "INVALID_INPUT", (name, what, body["errors"])
            assert extensions.get("field") in {p for _, _, p in placements}, (name, what, body)
            checked += 1
    assert checked > 50


async def test_every_subscription_argument_refuses_bad_strings(
    app: Starlette, admin_key: str, schema: Schema
) -> None:
    async with websocket(app) as socket:
        assert (await socket.init(admin_key))["type"] == "connection_ack"
        for name, field in operations(schema, "subscription"):
            query = document("subscription", field, schema)
            for what, placements in cases(schema, field):
                op = await socket.subscribe(query, variables_for(schema, field, placements))
                message = await socket.receive()
                assert message["id"] == op, (name, what)
                payload = message["payload"]
                errors = payload if message["type"] == "error" else payload["errors"]
                assert errors[0]["extensions"]["code"] == "INVALID_INPUT", (name, what, errors)


async def test_json_values_are_bounded_and_their_strings_checked(
    http: httpx.AsyncClient, admin_key: str
) -> None:
    query = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) {
      userErrors { field code } } }"""
    base = {
        "channelId": str(uuid.UUID(int=1)),
        "cartId": "c",
        "customer": {},
        "lines": [],
        "idempotencyKey": "k",
    }
    deep: Any = "x"
    for _ in range(20):
        deep = {"a": deep}
    for address, field in [
        ({"line1": "a\x00"}, "shippingAddress.line1"),
        ({"line1\x00": "a"}, "shippingAddress"),
        (deep, "shippingAddress"),
        ({"lines": list(range(DEFAULT_LIST_CAP + 1))}, "shippingAddress"),
    ]:
        body = await gql(
            http, query, {"input": {**base, "shippingAddress": address}}, key=admin_key
        )
        errors = data(body)["placeOrder"]["userErrors"]
        assert {"field": field, "code": "INVALID_INPUT"} in errors, (address, errors)


MAX_INT = 2**31 - 1


async def _mutate(
    http: httpx.AsyncClient, key: str, name: str, kind: str, fields: dict[str, Any]
) -> dict[str, Any]:
    selection = "userErrors { field code message }"
    query = f"mutation($input: {kind}!) {{ {name}(input: $input) {{ {selection} }} }}"
    payload: dict[str, Any] = data(await gql(http, query, {"input": fields}, key=key))[name]
    return payload


async def _on_hand(http: httpx.AsyncClient, key: str) -> list[int]:
    item = data(await gql(http, '{ inventoryItem(sku: "BIG") { levels { onHand } } }', key=key))
    return sorted(level["onHand"] for level in item["inventoryItem"]["levels"])


async def test_sums_past_what_a_level_holds_are_a_typed_error_and_change_nothing(
    http: httpx.AsyncClient, admin_key: str
) -> None:
    ids = []
    for code in ("A", "B"):
        made = await gql(
            http,
            "mutation($c: String!) { createLocation(input: {code: $c, name: $c, kind: WAREHOUSE})"
            " { location { id } } }",
            {"c": code},
            key=admin_key,
        )
        ids.append(data(made)["createLocation"]["location"]["id"])
    await _mutate(
        http, admin_key, "createInventoryItem", "CreateInventoryItemInput", {"sku": "BIG"}
    )

    def receive(location: str, quantity: int, key: str) -> dict[str, Any]:
        return {"sku": "BIG", "locationId": location, "quantity": quantity, "idempotencyKey": key}

    ok = await _mutate(
        http, admin_key, "receiveStock", "ReceiveStockInput", receive(ids[0], 1, "r1")
    )
    assert ok["userErrors"] == []
    # On hand + received passes the column at one level; the SKU's total at two.
    for location, key in ((ids[0], "r2"), (ids[1], "r3")):
        refused = await _mutate(
            http, admin_key, "receiveStock", "ReceiveStockInput", receive(location, MAX_INT, key)
        )
        assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
            ("quantity", "INVALID_QUANTITY")
        ]
    counted = await _mutate(
        http,
        admin_key,
        "countStock",
        "CountStockInput",
        {"sku": "BIG", "locationId": ids[1], "onHand": MAX_INT, "idempotencyKey": "c1"},
    )
    assert [(e["field"], e["code"]) for e in counted["userErrors"]] == [
        ("onHand", "INVALID_QUANTITY")
    ]
    assert await _on_hand(http, admin_key) == [1]


async def test_an_amount_past_what_money_holds_is_a_typed_error(
    http: httpx.AsyncClient, admin_key: str
) -> None:
    product = {
        "title": "Big",
        "descriptionHtml": "",
        "variants": [
            {"sku": "BIG", "optionValues": [], "price": {"amount": "1e309", "currencyCode": "USD"}}
        ],
    }
    made = await _mutate(http, admin_key, "createProduct", "ProductInput", product)
    assert [(e["field"], e["code"]) for e in made["userErrors"]] == [
        ("variants[0].price", "INVALID_INPUT")
    ]
    products = data(await gql(http, "{ products { edges { node { id } } } }", key=admin_key))
    assert products["products"]["edges"] == []


async def test_a_list_argument_of_100000_ids_is_a_typed_error(
    http: httpx.AsyncClient, admin_key: str
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(100_000)]
    body = await gql(
        http,
        "query($ids: [ID!]) { orders(filter: {channelIds: $ids}) { edges { node { id } } } }",
        {"ids": ids},
        key=admin_key,
    )
    assert body["errors"][0]["extensions"] == {
        "code": "INVALID_INPUT",
        "field": "filter.channelIds",
    }
