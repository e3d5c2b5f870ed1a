"""Key rotation without downtime: a new secret, the former one valid until a deadline."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette

from tests.graphql import data, gql, websocket

ROTATE = """
mutation($name: String!, $grace: Int!) {
  rotateApiKey(input: {name: $name, graceSeconds: $grace}) {
    secret apiKey { name formerSecretValidUntil } userErrors { field code }
  }
}"""


async def _viewer(http: httpx.AsyncClient, secret: str) -> int:
    response = await http.post(
        "/graphql",
        json={"query": "{ viewer { name } }"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    return response.status_code


async def _rotate(
    app: Starlette, http: httpx.AsyncClient, admin_key: str, grace: int
) -> dict[str, Any]:
    payload: dict[str, Any] = data(
        await gql(http, ROTATE, {"name": "test-staff", "grace": grace}, key=admin_key)
    )["rotateApiKey"]
    app.state.authenticator.forget()  # as the rotation event does in every process
    return payload


async def test_both_secrets_work_during_the_grace_period(
    app: Starlette, http: httpx.AsyncClient, admin_key: str, staff_key: str
) -> None:
    rotated = await _rotate(app, http, admin_key, 3600)
    assert rotated["userErrors"] == []
    assert rotated["apiKey"]["formerSecretValidUntil"] is not None
    assert rotated["secret"] != staff_key
    assert await _viewer(http, rotated["secret"]) == 200
    assert await _viewer(http, staff_key) == 200
    # Both act as the same key.
    viewer = data(await gql(http, "{ viewer { name } }", key=rotated["secret"]))["viewer"]
    assert viewer == {"name": "test-staff"}


async def test_after_the_grace_only_the_new_secret_works_and_old_sockets_close(
    app: Starlette, http: httpx.AsyncClient, admin_key: str, staff_key: str
) -> None:
    async with websocket(app) as socket:
        assert (await socket.init(staff_key))["type"] == "connection_ack"
        rotated = await _rotate(app, http, admin_key, 0)  # the grace ends at once
        assert await _viewer(http, staff_key) == 401
        assert await _viewer(http, rotated["secret"]) == 200
        assert await app.state.socket_guard.sweep() == 1


async def test_rotating_again_ends_the_first_secret_at_once(
    app: Starlette, http: httpx.AsyncClient, admin_key: str, staff_key: str
) -> None:
    second = await _rotate(app, http, admin_key, 3600)
    third = await _rotate(app, http, admin_key, 3600)
    assert await _viewer(http, staff_key) == 401
    assert await _viewer(http, second["secret"]) == 200
    assert await _viewer(http, third["secret"]) == 200


async def test_a_grace_out_of_bounds_or_an_unknown_key_is_a_user_error(
    http: httpx.AsyncClient, admin_key: str
) -> None:
    too_long = data(await gql(http, ROTATE, {"name": "test-staff", "grace": 10**8}, key=admin_key))
    assert too_long["rotateApiKey"]["userErrors"] == [
        {"field": "graceSeconds", "code": "INVALID_INPUT"}
    ]
    unknown = data(await gql(http, ROTATE, {"name": "nobody", "grace": 60}, key=admin_key))
    assert unknown["rotateApiKey"]["userErrors"] == [{"field": "name", "code": "NOT_FOUND"}]
