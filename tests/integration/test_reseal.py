"""`nexo secrets reseal`: channel credentials re-sealed under a new NEXO_SECRET_KEY, while
every process keeps opening them through the roll-out (the former key as
NEXO_PREVIOUS_SECRET_KEY)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from adapters.container import Container
from adapters.secrets import FernetSecretBox
from adapters.settings import Settings
from api.cli import main
from domain.clock import utcnow
from domain.inventory.setup import create_location
from domain.partners.endpoints import set_partner_endpoint
from tests.graphql import data, gql

OLD, NEW = Fernet.generate_key(), Fernet.generate_key()
CREDENTIALS = {"shop_domain": "a.myshopify.com", "access_token": "shpat_x", "api_secret": "s"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secret_key": SecretStr(OLD.decode())})


async def _channel_with_credentials(http: httpx.AsyncClient, key: str, name: str) -> str:
    made = data(
        await gql(
            http,
            "mutation($i: CreateChannelInput!) { createChannel(input: $i) { channel { id } } }",
            {"i": {"name": name, "kind": "SHOPIFY", "currency": "USD"}},
            key=key,
        )
    )["createChannel"]["channel"]["id"]
    given = [{"name": k, "value": v} for k, v in CREDENTIALS.items()]
    answer = data(
        await gql(
            http,
            "mutation($i: SetChannelCredentialsInput!) { setChannelCredentials(input: $i) "
            "{ userErrors { code } } }",
            {"i": {"channelId": made, "credentials": given}},
            key=key,
        )
    )
    assert answer["setChannelCredentials"]["userErrors"] == []
    return str(made)


async def _sealed(container: Container) -> list[bytes]:
    async with container.uow(readonly=True) as uow:
        configs = await uow.channel_configs.all()
        found = [await uow.channel_configs.credentials(c) for c in configs]
    return [s for s in found if s is not None]


async def _reseal(monkeypatch: pytest.MonkeyPatch, database_url: str, *keys: bytes) -> int:
    monkeypatch.setenv("NEXO_DATABASE_URL", database_url)
    monkeypatch.setenv("NEXO_SECRET_KEY", keys[0].decode())
    if len(keys) > 1:
        monkeypatch.setenv("NEXO_PREVIOUS_SECRET_KEY", keys[1].decode())
    else:
        monkeypatch.delenv("NEXO_PREVIOUS_SECRET_KEY", raising=False)
    return await asyncio.to_thread(main, ["secrets", "reseal"])


async def test_reseal_moves_every_channel_to_the_new_key(
    http: httpx.AsyncClient,
    admin_key: str,
    container: Container,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("A", "B"):
        await _channel_with_credentials(http, admin_key, name)
    before = await _sealed(container)
    assert len(before) == 2
    # During the roll-out a process with both keys opens what the old one sealed.
    rolling = FernetSecretBox(NEW, [OLD])
    assert [json.loads(rolling.open(s)) for s in before] == [CREDENTIALS, CREDENTIALS]

    assert await _reseal(monkeypatch, database_url, NEW, OLD) == 0
    assert "re-sealed 2 secrets" in capsys.readouterr().err
    after = await _sealed(container)
    assert [json.loads(FernetSecretBox(NEW).open(s)) for s in after] == [CREDENTIALS] * 2
    with pytest.raises(ValueError, match="another key"):
        FernetSecretBox(OLD).open(after[0])
    # Again: nothing left to move, still all readable under the new key alone.
    assert await _reseal(monkeypatch, database_url, NEW) == 0
    assert [json.loads(FernetSecretBox(NEW).open(s)) for s in await _sealed(container)] == [
        CREDENTIALS
    ] * 2


async def test_reseal_moves_partner_webhook_secrets_too(
    container: Container, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with container.uow() as uow:
        made = await create_location(uow, code="DS", name="Supplier", kind="dropship")
        await set_partner_endpoint(
            uow, location_id=made.id, url="https://supplier.example/hooks",
            secret="0123456789abcdef", box=container.secrets, now=utcnow(),
        )  # fmt: skip
        await uow.commit()

    assert await _reseal(monkeypatch, database_url, NEW, OLD) == 0

    async with container.uow(readonly=True) as uow:
        endpoint = await uow.partners.endpoint(made.id)
    assert endpoint is not None
    assert FernetSecretBox(NEW).open(endpoint.sealed_secret) == b"0123456789abcdef"
    with pytest.raises(ValueError, match="another key"):
        FernetSecretBox(OLD).open(endpoint.sealed_secret)


async def test_credentials_neither_key_opens_leave_everything_as_it_was(
    http: httpx.AsyncClient,
    admin_key: str,
    container: Container,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _channel_with_credentials(http, admin_key, "A")
    before = await _sealed(container)
    assert await _reseal(monkeypatch, database_url, NEW, Fernet.generate_key()) == 1
    assert "open with neither NEXO_SECRET_KEY nor NEXO_PREVIOUS_SECRET_KEY" in (
        capsys.readouterr().err
    )
    assert await _sealed(container) == before
