"""Every GraphQL operation needs an API key; roles decide what it may do."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from httpx_ws import WebSocketDisconnect
from starlette.applications import Starlette

from tests.graphql import data, gql, websocket

CREATE_KEY = """
mutation($name: String!, $role: Role!) {
  createApiKey(input: {name: $name, role: $role}) {
    secret apiKey { name role } userErrors { field message code }
  }
}"""


async def test_http_request_without_key_is_401_with_json_error(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ viewer { name } }"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_http_request_with_unknown_key_is_401(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql",
        json={"query": "{ viewer { name } }"},
        headers={"Authorization": "Bearer nexo_not-a-real-key"},
    )
    assert response.status_code == 401
    assert "Invalid" in response.json()["errors"][0]["message"]


async def test_viewer_is_the_caller(http: httpx.AsyncClient, staff_key: str) -> None:
    body = await gql(http, "{ viewer { name role } }", key=staff_key)
    assert data(body)["viewer"] == {"name": "test-staff", "role": "STAFF"}


async def test_admin_creates_a_key_that_works_once_shown(
    http: httpx.AsyncClient, admin_key: str
) -> None:
    created = data(
        await gql(http, CREATE_KEY, {"name": "shop-ui", "role": "READONLY"}, key=admin_key)
    )
    payload = created["createApiKey"]
    assert payload["userErrors"] == []
    assert payload["apiKey"] == {"name": "shop-ui", "role": "READONLY"}
    viewer = data(await gql(http, "{ viewer { name role } }", key=payload["secret"]))
    assert viewer["viewer"] == {"name": "shop-ui", "role": "READONLY"}
    listed = data(await gql(http, "{ apiKeys { name } }", key=admin_key))["apiKeys"]
    assert "shop-ui" in {k["name"] for k in listed}
    assert payload["secret"] not in str(listed)


async def test_duplicate_key_name_is_a_user_error(http: httpx.AsyncClient, admin_key: str) -> None:
    body = data(await gql(http, CREATE_KEY, {"name": "test-admin", "role": "STAFF"}, key=admin_key))
    assert body["createApiKey"]["secret"] is None
    assert body["createApiKey"]["userErrors"] == [
        {
            "field": "name",
            "message": "an API key named 'test-admin' already exists",
            "code": "ALREADY_EXISTS",
        }
    ]


async def test_readonly_key_cannot_mutate(
    http: httpx.AsyncClient, readonly_key: str, admin_key: str
) -> None:
    body = await gql(http, CREATE_KEY, {"name": "sneaky", "role": "ADMIN"}, key=readonly_key)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    listed = data(await gql(http, "{ apiKeys { name } }", key=admin_key))["apiKeys"]
    assert "sneaky" not in {k["name"] for k in listed}


async def test_staff_key_cannot_manage_keys(http: httpx.AsyncClient, staff_key: str) -> None:
    body = await gql(http, "{ apiKeys { name } }", key=staff_key)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_revoked_key_is_refused(
    app: Starlette, http: httpx.AsyncClient, admin_key: str, staff_key: str
) -> None:
    revoke = (
        'mutation { revokeApiKey(input: {name: "test-staff"}) { revoked userErrors { code } } }'
    )
    assert data(await gql(http, revoke, key=admin_key))["revokeApiKey"] == {
        "revoked": True,
        "userErrors": [],
    }
    app.state.authenticator.forget()  # a revocation reaches every process within the cache TTL
    response = await http.post(
        "/graphql",
        json={"query": "{ viewer { name } }"},
        headers={"Authorization": f"Bearer {staff_key}"},
    )
    assert response.status_code == 401


async def test_every_mutation_declares_a_permission(app: Starlette) -> None:
    from api.schema import Mutation

    definition = Mutation.__strawberry_definition__  # type: ignore[attr-defined]
    unguarded = [f.python_name for f in definition.fields if not f.permission_classes]
    assert unguarded == []


async def test_syntax_error_is_a_graphql_error_not_a_stack_trace(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    body = await gql(http, "{ viewer { name ", key=staff_key)
    assert body["data"] is None
    assert body["errors"][0]["message"].startswith("Syntax Error")
    assert "Traceback" not in str(body)


async def test_unknown_field_is_a_validation_error(http: httpx.AsyncClient, staff_key: str) -> None:
    body = await gql(http, "{ xyzzy }", key=staff_key)
    assert body["errors"][0]["message"] == "Cannot query field 'xyzzy' on type 'Query'."


async def test_websocket_with_bad_key_is_closed_4403(app: Starlette) -> None:
    async with websocket(app) as socket:
        with pytest.raises(WebSocketDisconnect) as closed:
            await socket.init("nexo_wrong")
    assert closed.value.code == 4403


async def test_websocket_without_key_is_closed_4403(app: Starlette) -> None:
    async with websocket(app) as socket:
        with pytest.raises(WebSocketDisconnect) as closed:
            await socket.init(None)
    assert closed.value.code == 4403


async def test_admin_subscription_streams_key_events(
    app: Starlette, http: httpx.AsyncClient, admin_key: str
) -> None:
    async with websocket(app) as socket:
        assert (await socket.init(admin_key))["type"] == "connection_ack"
        op = await socket.subscribe("subscription { apiKeyEvents { kind name } }")
        async with asyncio.timeout(5):
            await app.state.container.bus.fanout.wait_for_subscribers("api_keys")
        await gql(http, CREATE_KEY, {"name": "watched", "role": "STAFF"}, key=admin_key)
        payload = await socket.next_payload(op)
        assert payload["data"]["apiKeyEvents"] == {"kind": "created", "name": "watched"}
        await socket.complete(op)


async def test_readonly_key_cannot_subscribe_to_admin_events(
    app: Starlette, readonly_key: str
) -> None:
    async with websocket(app) as socket:
        assert (await socket.init(readonly_key))["type"] == "connection_ack"
        op = await socket.subscribe("subscription { apiKeyEvents { kind name } }")
        message = await socket.receive()
        assert message["id"] == op
        assert message["type"] in {"error", "next"}
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_unexpected_errors_are_masked(
    http: httpx.AsyncClient, staff_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.db.repositories.inventory import SqlInventoryRepository

    async def broken(self: object) -> None:
        raise RuntimeError("connection string postgres://secret@db")

    monkeypatch.setattr(SqlInventoryRepository, "list_locations", broken)
    body = await gql(http, "{ locations { code } }", key=staff_key)
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == ["Unexpected error."]
    assert "secret" not in str(body)
