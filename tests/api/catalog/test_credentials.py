"""Channel credentials go in sealed and never come out through the API; the sync switch."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from adapters.container import Container
from adapters.db.tables import channel_configs
from tests.api.catalog.support import create_channel
from tests.graphql import data, gql

SECRET = "sk-live-51HxTrailShirtS3cr3t"

SET_CHANNEL_CREDENTIALS = """
mutation($input: SetChannelCredentialsInput!) {
  setChannelCredentials(input: $input) {
    channel { id catalog { credentialsSet } }
    userErrors { field message code }
  }
}"""

SET_CHANNEL_SYNC = """
mutation($input: SetChannelSyncInput!) {
  setChannelSync(input: $input) {
    channel { id catalog { syncEnabled credentialsSet } }
    userErrors { field message code }
  }
}"""

CATALOG = "{ channels { id catalog { syncEnabled credentialsSet } } }"

SECRET_WORDS = ("secret", "password", "token", "apikey")

OBJECT_FIELDS = """
{ __schema { types { name kind fields { name type { name kind ofType { name } } } } } }"""


def credentials(**pairs: str) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs.items()]


async def set_credentials(
    http: httpx.AsyncClient, key: str, channel_id: str, given: list[dict[str, str]]
) -> dict[str, Any]:
    body = await gql(
        http, SET_CHANNEL_CREDENTIALS, {"input": {"channelId": channel_id, "credentials": given}},
        key=key,
    )  # fmt: skip
    payload: dict[str, Any] = data(body)["setChannelCredentials"]
    return payload


async def catalog_of(http: httpx.AsyncClient, key: str, channel_id: str) -> dict[str, Any]:
    channels = data(await gql(http, CATALOG, key=key))["channels"]
    (found,) = [c["catalog"] for c in channels if c["id"] == channel_id]
    return dict(found)


async def stored_credentials(container: Container, channel_id: str) -> bytes | None:
    async with container.engine.connect() as conn:
        stored: bytes | None = (
            await conn.execute(
                select(channel_configs.c.credentials).where(
                    channel_configs.c.channel_id == uuid.UUID(channel_id)
                )
            )
        ).scalar_one_or_none()
    return stored


async def test_credentials_are_set_and_the_api_only_says_so(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    amazon = await create_channel(http, staff_key, "Amazon", "amazon", "USD")
    assert (await catalog_of(http, staff_key, amazon))["credentialsSet"] is False

    payload = await set_credentials(
        http, staff_key, amazon, credentials(clientId="amzn-client", clientSecret=SECRET)
    )

    assert payload["userErrors"] == []
    assert payload["channel"]["catalog"] == {"credentialsSet": True}
    assert (await catalog_of(http, staff_key, amazon))["credentialsSet"] is True


async def test_no_field_of_the_schema_can_return_credential_values(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    types = data(await gql(http, OBJECT_FIELDS, key=staff_key))["__schema"]["types"]
    by_name = {t["name"]: t for t in types}

    config_fields = {f["name"] for f in by_name["ChannelCatalogConfig"]["fields"]}
    assert config_fields == {"syncEnabled", "credentialsSet", "priceRule", "listingRule"}
    # (An API key's own `secret`, shown once when it is created, is not a channel's.)
    readable = [
        (t["name"], f["name"], f["type"]["name"] or f["type"]["ofType"]["name"])
        for t in types
        if t["kind"] == "OBJECT" and t["name"] != "Mutation" and not t["name"].startswith("__")
        for f in t["fields"] or []
        if "credential" in f["name"].lower()
        or ("Channel" in t["name"] and any(w in f["name"].lower() for w in SECRET_WORDS))
    ]
    assert readable == [("ChannelCatalogConfig", "credentialsSet", "Boolean")]


async def test_credentials_are_stored_sealed_and_open_with_the_secret_box(
    http: httpx.AsyncClient, staff_key: str, container: Container
) -> None:
    amazon = await create_channel(http, staff_key, "Amazon", "amazon", "USD")
    given = {"clientId": "amzn-client", "clientSecret": SECRET}

    await set_credentials(http, staff_key, amazon, credentials(**given))

    stored = await stored_credentials(container, amazon)
    assert stored is not None
    assert SECRET.encode() not in stored
    assert b"amzn-client" not in stored
    assert json.loads(container.secrets.open(stored)) == given


async def test_new_credentials_replace_the_old(
    http: httpx.AsyncClient, staff_key: str, container: Container
) -> None:
    amazon = await create_channel(http, staff_key, "Amazon", "amazon", "USD")
    await set_credentials(http, staff_key, amazon, credentials(clientId="old", clientSecret="x"))

    await set_credentials(http, staff_key, amazon, credentials(refreshToken=SECRET))

    stored = await stored_credentials(container, amazon)
    assert stored is not None
    assert json.loads(container.secrets.open(stored)) == {"refreshToken": SECRET}


@pytest.mark.parametrize(
    "given",
    [[], credentials(clientSecret=""), [{"name": " ", "value": SECRET}]],
    ids=["none", "empty-value", "blank-name"],
)
async def test_empty_credentials_are_refused_and_nothing_is_stored(
    http: httpx.AsyncClient, staff_key: str, container: Container, given: list[dict[str, str]]
) -> None:
    amazon = await create_channel(http, staff_key, "Amazon", "amazon", "USD")

    payload = await set_credentials(http, staff_key, amazon, given)

    assert payload["channel"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("credentials", "INVALID_INPUT")
    ]
    assert (await catalog_of(http, staff_key, amazon))["credentialsSet"] is False
    assert await stored_credentials(container, amazon) is None


async def test_a_readonly_key_cannot_set_credentials(
    http: httpx.AsyncClient, staff_key: str, readonly_key: str, container: Container
) -> None:
    amazon = await create_channel(http, staff_key, "Amazon", "amazon", "USD")

    body = await gql(
        http, SET_CHANNEL_CREDENTIALS,
        {"input": {"channelId": amazon, "credentials": credentials(clientSecret=SECRET)}},
        key=readonly_key,
    )  # fmt: skip

    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await stored_credentials(container, amazon) is None


async def test_credentials_for_an_unknown_channel_are_not_found(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    payload = await set_credentials(
        http, staff_key, str(uuid.uuid4()), credentials(clientSecret=SECRET)
    )

    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("channelId", "NOT_FOUND")]


async def test_sync_can_be_switched_off_and_on_keeping_the_credentials(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    amazon = await create_channel(http, staff_key, "Amazon", "amazon", "USD")
    await set_credentials(http, staff_key, amazon, credentials(clientSecret=SECRET))
    assert (await catalog_of(http, staff_key, amazon))["syncEnabled"] is True

    off = data(
        await gql(http, SET_CHANNEL_SYNC, {"input": {"channelId": amazon, "enabled": False}},
                  key=staff_key)
    )["setChannelSync"]  # fmt: skip

    assert off["userErrors"] == []
    assert off["channel"]["catalog"] == {"syncEnabled": False, "credentialsSet": True}
    assert await catalog_of(http, staff_key, amazon) == {
        "syncEnabled": False,
        "credentialsSet": True,
    }
    on = data(
        await gql(http, SET_CHANNEL_SYNC, {"input": {"channelId": amazon, "enabled": True}},
                  key=staff_key)
    )["setChannelSync"]  # fmt: skip
    assert on["channel"]["catalog"]["syncEnabled"] is True
