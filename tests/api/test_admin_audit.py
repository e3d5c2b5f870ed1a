"""Every admin action is in the audit log: who, when, what, the subject before and after;
readable by admins only; holding no secret (not a key's, not a channel's credentials)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.graphql import data, gql

AUDIT = """
query($action: String) { adminAudit(first: 50, action: $action) { edges { node {
  at actor action subject outcome input before after } } } }"""
TOKEN = "shpat_TOPSECRET_audit_1234"


async def _entries(
    http: httpx.AsyncClient, key: str, action: str | None = None
) -> list[dict[str, Any]]:
    body = data(await gql(http, AUDIT, {"action": action}, key=key))
    return [edge["node"] for edge in body["adminAudit"]["edges"]]


async def _mutate(
    http: httpx.AsyncClient, key: str, name: str, kind: str, fields: dict[str, Any], select: str
) -> dict[str, Any]:
    query = f"mutation($i: {kind}!) {{ {name}(input: $i) {{ {select} userErrors {{ code }} }} }}"
    payload: dict[str, Any] = data(await gql(http, query, {"i": fields}, key=key))[name]
    return payload


async def test_key_actions_are_recorded_with_the_key_before_and_after(
    http: httpx.AsyncClient, admin_key: str
) -> None:
    made = await _mutate(
        http, admin_key, "createApiKey", "CreateApiKeyInput",
        {"name": "shop-ui", "role": "STAFF"}, "secret",
    )  # fmt: skip
    rotated = await _mutate(
        http, admin_key, "rotateApiKey", "RotateApiKeyInput",
        {"name": "shop-ui", "graceSeconds": 60}, "secret",
    )  # fmt: skip
    await _mutate(
        http, admin_key, "revokeApiKey", "RevokeApiKeyInput", {"name": "shop-ui"}, "revoked"
    )
    entries = await _entries(http, admin_key)
    assert [e["action"] for e in entries] == ["revokeApiKey", "rotateApiKey", "createApiKey"]
    assert {e["actor"] for e in entries} == {"test-admin"}
    assert {e["subject"] for e in entries} == {"name=shop-ui"}
    assert {e["outcome"] for e in entries} == {"done"}
    revoke, rotate, create = entries
    assert create["before"] is None
    assert create["after"]["role"] == "staff"
    assert rotate["before"]["previousValidUntil"] is None
    assert rotate["after"]["previousValidUntil"] is not None
    assert revoke["before"]["revokedAt"] is None
    assert revoke["after"]["revokedAt"] is not None
    assert revoke["at"] >= rotate["at"] >= create["at"]
    logged = json.dumps(entries)
    assert made["secret"] not in logged
    assert rotated["secret"] not in logged


async def test_a_refused_attempt_is_recorded_too(http: httpx.AsyncClient, admin_key: str) -> None:
    refused = await _mutate(
        http, admin_key, "createApiKey", "CreateApiKeyInput",
        {"name": "test-admin", "role": "ADMIN"}, "secret",
    )  # fmt: skip
    assert refused["userErrors"] == [{"code": "ALREADY_EXISTS"}]
    bad = await _mutate(
        http, admin_key, "createApiKey", "CreateApiKeyInput",
        {"name": "a\x00b", "role": "ADMIN"}, "secret",
    )  # fmt: skip
    assert bad["userErrors"] == [{"code": "INVALID_INPUT"}]
    outcomes = [e["outcome"] for e in await _entries(http, admin_key, "createApiKey")]
    assert outcomes == ["refused: INVALID_INPUT", "refused: ALREADY_EXISTS"]


async def test_channel_credentials_and_policies_are_recorded_without_the_secret(
    http: httpx.AsyncClient, admin_key: str
) -> None:
    channel = await _mutate(
        http, admin_key, "createChannel", "CreateChannelInput",
        {"name": "Shop", "kind": "SHOPIFY", "currency": "USD"}, "channel { id }",
    )  # fmt: skip
    channel_id = channel["channel"]["id"]
    credentials = {"shop_domain": "a.myshopify.com", "access_token": TOKEN, "api_secret": TOKEN}
    await _mutate(
        http, admin_key, "setChannelCredentials", "SetChannelCredentialsInput",
        {"channelId": channel_id,
         "credentials": [{"name": k, "value": v} for k, v in credentials.items()]},
        "",
    )  # fmt: skip
    await _mutate(
        http, admin_key, "setChannelSync", "SetChannelSyncInput",
        {"channelId": channel_id, "enabled": False}, "",
    )  # fmt: skip
    entries = await _entries(http, admin_key)
    assert [e["action"] for e in entries] == [
        "setChannelSync", "setChannelCredentials", "createChannel",
    ]  # fmt: skip
    sync, secret, _ = entries
    assert secret["input"]["credentials"] == "[redacted]"
    assert secret["before"]["config"]["credentials_set"] is False
    assert secret["after"]["config"]["credentials_set"] is True
    assert sync["before"]["config"]["sync_enabled"] is True
    assert sync["after"]["config"]["sync_enabled"] is False
    assert TOKEN not in json.dumps(entries)


async def test_only_admins_read_the_audit_log(
    http: httpx.AsyncClient, admin_key: str, staff_key: str
) -> None:
    body = await gql(http, AUDIT, {"action": None}, key=staff_key)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # A staff member's attempt at an admin action is recorded, refused.
    await gql(
        http,
        'mutation { createApiKey(input: {name: "x", role: ADMIN}) { secret } }',
        key=staff_key,
    )
    entries = await _entries(http, admin_key, "createApiKey")
    assert [(e["actor"], e["outcome"]) for e in entries] == [("test-staff", "failed")]
