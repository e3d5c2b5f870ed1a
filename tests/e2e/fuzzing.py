"""What the fuzz test and `bench/fuzz.py` share: a seeded `nexo serve` on its own PostgreSQL
database, and the strategies that make generated inputs reach the domain.

Schemathesis generates each operation's arguments from the schema; left alone, every ID is
random and every string noise, so nearly every call stops at "not found". The `ID` scalar
is therefore drawn mostly from the ids the seed made (locations, a channel, a product, an
order and its lines), `String` often from the seed's own words (SKUs, codes, currency), and
`JSON` as small objects of strings (an address).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphql
import httpx
import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from adapters.container import build_container
from adapters.settings import Settings
from api.cli import migrate
from domain.access import Role
from domain.api_keys import create_api_key
from tests import services
from tests.e2e.servers import Server, nexo_env, serving
from tests.graphql import keys_in

ADMIN = "fuzz-admin"
SKUS = ["FZ-1", "FZ-2", "FZ-3"]
WORDS = [*SKUS, "WH", "ST", "USD", "EUR", "cart-1", "Web", "fuzz", "ACME", "10.00", "1.5"]
MASKED = "Unexpected error."
AUDIT = "{ inventoryAudit { checkedLevels mismatches { sku } totalMismatches { sku } } }"

# Read when drawn: the seed fills them once the server is up.
KNOWN_IDS: list[str] = []


def _known_id(index: int) -> str:
    return KNOWN_IDS[index % len(KNOWN_IDS)] if KNOWN_IDS else str(uuid.UUID(int=index))


def _json_object(values: dict[str, str]) -> graphql.ObjectValueNode:
    return nodes.Object(
        [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=nodes.String(v))
            for k, v in values.items()
        ]
    )


def register_scalars() -> None:
    """Strategies for `ID`, `String` and `JSON` (schemathesis reads them when it draws)."""
    ids = st.one_of(
        st.integers(min_value=0, max_value=10_000).map(_known_id),
        st.uuids().map(str),
        st.text(max_size=40),
    )
    schemathesis.graphql.scalar("ID", ids.map(nodes.String))
    words = st.one_of(st.sampled_from(WORDS), st.text(max_size=80))
    schemathesis.graphql.scalar("String", words.map(nodes.String))
    address = st.dictionaries(
        st.sampled_from(["line1", "line2", "city", "region", "postalCode", "country"])
        | st.text(max_size=10),
        st.text(max_size=40) | st.sampled_from(["US", "Springfield", "1 Main St"]),
        max_size=6,
    )
    schemathesis.graphql.scalar("JSON", address.map(_json_object))


@dataclass
class Target:
    server: Server
    key: str
    url: str
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def _admin_key(url: str, home: Path) -> str:
    settings = Settings(database_url=url, secret_key_file=home / "secret.key")
    container = build_container(settings)
    try:
        async with container.uow() as uow:
            issued = await create_api_key(uow, name=ADMIN, role=Role.ADMIN)
            await uow.commit()
    finally:
        await container.close()
    return issued.secret


def _run(http: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    response = http.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = keys_in(response.json())
    assert not body.get("errors"), body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    assert not payload.get("userErrors"), payload
    return payload


def seed(target: Target) -> None:
    """A catalog, stock at two locations, a web store channel and one order."""
    with httpx.Client(base_url=target.server.base_url, headers=target.headers, timeout=30) as http:
        for code, kind in (("WH", "WAREHOUSE"), ("ST", "STORE")):
            made = _run(
                http,
                "mutation($i: CreateLocationInput!) { createLocation(input: $i) "
                "{ location { id } userErrors { code } } }",
                i={"code": code, "name": code, "kind": kind},
            )
            target.ids[code] = made["location"]["id"]
        variants = [
            {"sku": sku, "optionValues": [sku], "price": {"amount": "10.00", "currencyCode": "USD"}}
            for sku in SKUS
        ]
        product = _run(
            http,
            "mutation($i: ProductInput!) { createProduct(input: $i) "
            "{ product { id } userErrors { code } } }",
            i={
                "title": "Fuzz",
                "descriptionHtml": "<p>fuzz</p>",
                "options": [{"name": "Kind", "values": SKUS}],
                "variants": variants,
            },
        )
        target.ids["product"] = product["product"]["id"]
        for sku in SKUS:
            for location in ("WH", "ST"):
                _run(
                    http,
                    "mutation($i: ReceiveStockInput!) { receiveStock(input: $i) "
                    "{ userErrors { code } } }",
                    i={
                        "sku": sku,
                        "locationId": target.ids[location],
                        "quantity": 50,
                        "idempotencyKey": f"seed-{sku}-{location}",
                    },
                )
        channel = _run(
            http,
            "mutation($i: CreateChannelInput!) { createChannel(input: $i) "
            "{ channel { id } userErrors { code } } }",
            i={
                "name": "Web",
                "kind": "WEBSTORE",
                "currency": "USD",
                "locationIds": [target.ids["WH"]],
            },
        )
        target.ids["channel"] = channel["channel"]["id"]
        order = _run(
            http,
            "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) "
            "{ order { id lines { id } } userErrors { code } } }",
            i={
                "channelId": target.ids["channel"],
                "cartId": "cart-1",
                "customer": {"name": "Ada", "email": "ada@example.com"},
                "shippingAddress": {"line1": "1 Main St", "city": "Springfield", "country": "US"},
                "lines": [
                    {
                        "sku": "FZ-1",
                        "quantity": 1,
                        "unitPrice": {"amount": "10.00", "currencyCode": "USD"},
                    }
                ],
                "idempotencyKey": "seed-order",
            },
        )
        target.ids["order"] = order["order"]["id"]
        for n, line in enumerate(order["order"]["lines"]):
            target.ids[f"line{n}"] = line["id"]
    KNOWN_IDS[:] = list(target.ids.values())


@contextmanager
def fuzz_target(home: Path) -> Iterator[Target]:
    """A migrated PostgreSQL database of its own, an admin key, `nexo serve` on it, seeded."""
    if not services.TEST_DATABASE_URL:
        services.absent("PostgreSQL", "NEXO_TEST_DATABASE_URL")
    assert services.TEST_DATABASE_URL is not None
    url = services.create_database(services.TEST_DATABASE_URL)
    try:
        migrate(Settings(database_url=url))
        key = asyncio.run(_admin_key(url, home))
        env = nexo_env(
            NEXO_DATABASE_URL=url,
            NEXO_ENVIRONMENT="dev",  # introspection on: the fuzzer reads the schema
            NEXO_SECRET_KEY_FILE=str(home / "secret.key"),
            NEXO_LOG_LEVEL="ERROR",
            NEXO_RATE_LIMITS="true",  # as in production: a refusal is a typed error too
        )
        with serving(home, env, "fuzz") as [server]:
            target = Target(server=server, key=key, url=f"{server.base_url}/graphql")
            seed(target)
            yield target
    finally:
        services.drop_database(services.TEST_DATABASE_URL, url)


def audit_is_clean(target: Target) -> dict[str, Any]:
    with httpx.Client(base_url=target.server.base_url, headers=target.headers, timeout=60) as http:
        response = http.post(
            "/graphql",
            json={"query": AUDIT},
        )
    audit: dict[str, Any] = response.json()["data"]["inventoryAudit"]
    return audit


def findings_of(status: int, body: Any) -> list[str]:
    """What a response shows wrong: a 5xx, or a masked internal error."""
    found = []
    if status >= 500:
        found.append(f"HTTP {status}")
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors and any(e.get("message") == MASKED for e in errors):
        found.append("masked internal error")
    return found


def outcome_of(body: Any) -> str:
    """How far a response got: refused by GraphQL or the edge, a user error, or done."""
    if not isinstance(body, dict):
        return "not JSON"
    errors = body.get("errors")
    if errors:
        code = (errors[0].get("extensions") or {}).get("code")
        return f"error {code}" if code else "error (GraphQL)"
    payload = next(iter((body.get("data") or {}).values()), None)
    if isinstance(payload, dict) and payload.get("userErrors"):
        return "user error"
    return "done"
