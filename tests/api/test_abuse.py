"""Abusive requests are refused before they run: body size, depth, aliases, cost, and
field suggestions that would map the schema for a stranger.

Each refusal is checked to have executed nothing (no location created, no resolver run).
How fast the refusals are is measured by `bench/abuse.py`, not here.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from adapters.settings import Environment, Settings
from api.schema.cost import FIELD_COSTS, MAX_ALIASES, MAX_COST, MAX_DEPTH
from tests.graphql import data, gql

BODY_LIMIT = 64 * 1024
CREATE_LOCATION = """
mutation($name: String!) { createLocation(input: {code: "BIG", name: $name, kind: WAREHOUSE}) {
  location { id } userErrors { code } } }"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_request_bytes": BODY_LIMIT})


async def _locations(http: httpx.AsyncClient, key: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = data(await gql(http, "{ locations { code } }", key=key))[
        "locations"
    ]
    return found


def _body(name: str) -> bytes:
    return json.dumps({"query": CREATE_LOCATION, "variables": {"name": name}}).encode()


async def test_a_body_over_the_limit_is_413_and_runs_nothing(
    http: httpx.AsyncClient, admin_key: str
) -> None:
    response = await http.post(
        "/graphql",
        content=_body("x" * BODY_LIMIT),
        headers={"Authorization": f"Bearer {admin_key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert await _locations(http, admin_key) == []


async def test_a_chunked_body_over_the_limit_is_413_without_a_length(
    http: httpx.AsyncClient, admin_key: str
) -> None:
    body = _body("x" * BODY_LIMIT)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    response = await http.post(
        "/graphql",
        content=chunks(),
        headers={"Authorization": f"Bearer {admin_key}", "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert await _locations(http, admin_key) == []


async def test_a_body_within_the_limit_is_served(http: httpx.AsyncClient, admin_key: str) -> None:
    body = _body("Main warehouse")
    padded = body[:-1] + b" " * (BODY_LIMIT - len(body)) + body[-1:]
    assert len(padded) == BODY_LIMIT
    response = await http.post(
        "/graphql",
        content=padded,
        headers={"Authorization": f"Bearer {admin_key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["createLocation"]["userErrors"] == []
    assert await _locations(http, admin_key) == [{"code": "BIG"}]


@pytest.fixture
def audits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts inventory audits run: a refused request must run none."""
    from domain.inventory import queries

    ran: list[int] = []
    real = queries.audit

    async def counted(uow: Any) -> Any:
        ran.append(1)
        return await real(uow)

    monkeypatch.setattr(queries, "audit", counted)
    return ran


def _errors(body: dict[str, Any]) -> list[str]:
    assert body.get("data") is None, body
    return [e["message"] for e in body["errors"]]


async def test_one_audit_runs(http: httpx.AsyncClient, admin_key: str, audits: list[int]) -> None:
    body = await gql(http, "{ inventoryAudit { checkedLevels } }", key=admin_key)
    assert data(body)["inventoryAudit"]["checkedLevels"] == 0
    assert audits == [1]


async def test_too_many_aliases_are_refused_before_anything_runs(
    http: httpx.AsyncClient, admin_key: str, audits: list[int]
) -> None:
    query = "{ " + " ".join(f"a{i}: viewer {{ name }}" for i in range(MAX_ALIASES + 1)) + " }"
    assert _errors(await gql(http, query, key=admin_key)) == [
        f"{MAX_ALIASES + 1} aliases found. Allowed: {MAX_ALIASES}"
    ]
    mutations = (
        "mutation { "
        + " ".join(
            f'm{i}: createLocation(input: {{code: "L{i}", name: "n", kind: WAREHOUSE}}) '
            "{ userErrors { code } }"
            for i in range(MAX_ALIASES + 1)
        )
        + " }"
    )
    assert "aliases found" in _errors(await gql(http, mutations, key=admin_key))[0]
    assert await _locations(http, admin_key) == []


async def test_aliases_hidden_in_fragments_count(http: httpx.AsyncClient, admin_key: str) -> None:
    half = " ".join(f"a{i}: viewer {{ name }}" for i in range(MAX_ALIASES // 2 + 1))
    query = f"{{ ...A ...B }} fragment A on Query {{ {half} }} fragment B on Query {{ {half} }}"
    assert "aliases found" in _errors(await gql(http, query, key=admin_key))[0]


async def test_expensive_fields_are_priced_so_a_few_audits_exceed_the_cost(
    http: httpx.AsyncClient, admin_key: str, audits: list[int]
) -> None:
    count = MAX_COST // FIELD_COSTS[("Query", "inventoryAudit")] + 1
    query = (
        "{ " + " ".join(f"a{i}: inventoryAudit {{ checkedLevels }}" for i in range(count)) + " }"
    )
    body = await gql(http, query, key=admin_key)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] > MAX_COST
    assert body.get("data") is None
    assert audits == []


async def test_lists_cost_their_page_size_through_fragments(
    http: httpx.AsyncClient, admin_key: str
) -> None:
    # Cheap at a page of 1, over the limit at the largest page: the nesting multiplies.
    fragment = "fragment F on Product { variants { sku barcode price { amount currencyCode } } }"
    node = "id title ...F images { url altText skus } options { name values }"

    def query(page: int) -> str:
        nested = f"products(first: {page}) {{ edges {{ node {{ {node} }} }} }}"
        return "{ " + " ".join(f"p{i}: {nested}" for i in range(10)) + " } " + fragment

    assert "errors" not in await gql(http, query(1), key=admin_key)
    body = await gql(http, query(100), key=admin_key)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


async def test_a_variable_page_size_counts_as_the_largest_page(
    http: httpx.AsyncClient, admin_key: str
) -> None:
    fields = "edges { node { id title variants { sku price { amount } } } }"
    query = (
        "query($n: Int!) { "
        + " ".join(f"p{i}: products(first: $n) {{ {fields} }}" for i in range(15))
        + " }"
    )
    body = await gql(http, query, {"n": 1}, key=admin_key)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


async def test_depth_is_limited_through_fragments(http: httpx.AsyncClient, admin_key: str) -> None:
    deepest = "{ products { edges { node { variants { price { amount } } } } } }"
    assert "errors" not in await gql(http, deepest, key=admin_key)
    # The schema has no cycle today (its deepest path is 7): the limit guards the next one.
    nested = "name"
    for level in range(MAX_DEPTH + 1):
        nested = f"f{level} {{ {nested} }}"
    query = f"{{ ...F }} fragment F on Query {{ {nested} }}"
    messages = _errors(await gql(http, query, key=admin_key))
    assert f"'anonymous' exceeds maximum operation depth of {MAX_DEPTH}" in messages


MISSPELLINGS = {
    "field": "{ viewer { nam } }",
    "root field": "{ viewr { name } }",
    "mutation": 'mutation { createLocaton(input: {code: "A", name: "A", kind: WAREHOUSE}) '
    "{ userErrors { code } } }",
    "argument": '{ inventoryItem(skuu: "A") { sku } }',
    "enum value": 'mutation { createLocation(input: {code: "A", name: "A", kind: WAREHOUS}) '
    "{ userErrors { code } } }",
    "input field": 'mutation { createLocation(input: {cod: "A", name: "A", kind: WAREHOUSE}) '
    "{ userErrors { code } } }",
}
VARIABLE_ENUM = (
    "mutation($input: CreateLocationInput!) { createLocation(input: $input) "
    "{ userErrors { code } } }",
    {"input": {"code": "A", "name": "A", "kind": "WAREHOUS"}},
)


@pytest.fixture
async def prod_http(settings: Settings, container: Any) -> AsyncIterator[httpx.AsyncClient]:
    from asgi_lifespan import LifespanManager
    from cryptography.fernet import Fernet
    from pydantic import SecretStr

    from api.app import create_app

    prod = settings.model_copy(
        update={
            "environment": Environment.PROD,
            "secret_key": SecretStr(Fernet.generate_key().decode()),
        }
    )
    application = create_app(prod, container=container)
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://nexo.test") as client:
            yield client


async def _messages(http: httpx.AsyncClient, key: str) -> dict[str, str]:
    found = {}
    for what, query in MISSPELLINGS.items():
        found[what] = " ".join(_errors(await gql(http, query, key=key)))
    query, variables = VARIABLE_ENUM
    found["variable's enum value"] = " ".join(_errors(await gql(http, query, variables, key=key)))
    return found


async def test_dev_suggests_names_for_misspellings(http: httpx.AsyncClient, admin_key: str) -> None:
    messages = await _messages(http, admin_key)
    assert all("Did you mean" in m for m in messages.values()), messages


async def test_prod_suggests_nothing(prod_http: httpx.AsyncClient, admin_key: str) -> None:
    messages = await _messages(prod_http, admin_key)
    assert not [m for m in messages.values() if "Did you mean" in m], messages
    # Still a clear error for each.
    assert "Cannot query field 'nam' on type 'Viewer'." in messages["field"]
    assert "Value 'WAREHOUS' does not exist in 'LocationKind' enum." in messages["enum value"]
