"""API-key use cases and bearer parsing, against in-memory fakes."""

from __future__ import annotations

import pytest

from domain.access import KEY_PREFIX, Principal, Role, hash_secret, parse_bearer
from domain.api_keys import (
    API_KEY_EVENTS,
    BOOTSTRAP_KEY_NAME,
    authenticate,
    bootstrap_admin_key,
    create_api_key,
    parse_role,
    revoke_api_key,
)
from domain.errors import AlreadyExists, ErrorCode, InvalidInput, NotFound
from domain.events import Event
from tests.unit.fakes import FakeUnitOfWork


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


async def issue(uow: FakeUnitOfWork, name: str, role: Role = Role.STAFF) -> str:
    async with uow:
        issued = await create_api_key(uow, name=name, role=role)
        await uow.commit()
    return issued.secret


async def test_create_returns_the_secret_and_stores_only_its_hash(uow: FakeUnitOfWork) -> None:
    async with uow:
        issued = await create_api_key(uow, name="shop-ui", role=Role.READONLY)
        await uow.commit()

    assert issued.secret.startswith(KEY_PREFIX)
    assert len(issued.secret) > len(KEY_PREFIX) + 32
    stored = await uow.api_keys.get_by_name("shop-ui")
    assert stored is not None
    assert stored.role is Role.READONLY
    assert stored.active
    assert stored.key_hash == hash_secret(issued.secret)
    assert issued.secret not in repr(stored)


async def test_each_key_gets_a_different_secret(uow: FakeUnitOfWork) -> None:
    first = await issue(uow, "one")
    second = await issue(uow, "two")
    assert first != second


async def test_create_publishes_a_created_event_without_the_secret_on_commit(
    uow: FakeUnitOfWork,
) -> None:
    async with uow:
        issued = await create_api_key(uow, name="ops", role=Role.ADMIN)
        assert uow.published == []
        await uow.commit()

    assert uow.published == [
        Event(API_KEY_EVENTS, {"kind": "created", "name": "ops", "role": "admin"})
    ]
    assert issued.secret not in str(uow.published)


async def test_a_key_not_committed_is_not_kept_and_not_announced(uow: FakeUnitOfWork) -> None:
    async with uow:
        await create_api_key(uow, name="draft", role=Role.STAFF)

    assert await uow.api_keys.get_by_name("draft") is None
    assert uow.published == []


async def test_duplicate_name_is_already_exists_and_changes_nothing(uow: FakeUnitOfWork) -> None:
    await issue(uow, "shop-ui")
    events_before = list(uow.published)

    async with uow:
        with pytest.raises(AlreadyExists) as raised:
            await create_api_key(uow, name="shop-ui", role=Role.ADMIN)
        assert uow.pending_events == []

    assert raised.value.field == "name"
    assert raised.value.code is ErrorCode.ALREADY_EXISTS
    assert len(await uow.api_keys.list()) == 1
    kept = await uow.api_keys.get_by_name("shop-ui")
    assert kept is not None
    assert kept.role is Role.STAFF
    assert uow.published == events_before


async def test_a_revoked_keys_name_cannot_be_reused(uow: FakeUnitOfWork) -> None:
    await issue(uow, "old")
    async with uow:
        await revoke_api_key(uow, name="old")
        await uow.commit()

    async with uow:
        with pytest.raises(AlreadyExists):
            await create_api_key(uow, name="old", role=Role.STAFF)


@pytest.mark.parametrize(
    "name", ["", " ", "-leading-dash", ".hidden", "has space", "a" * 65, "emoji-🔑", "tab\t"]
)
async def test_bad_name_is_invalid_input(uow: FakeUnitOfWork, name: str) -> None:
    async with uow:
        with pytest.raises(InvalidInput) as raised:
            await create_api_key(uow, name=name, role=Role.STAFF)

    assert raised.value.field == "name"
    assert await uow.api_keys.list() == []


@pytest.mark.parametrize("name", ["shop\n", "a" * 64 + "\n"])
async def test_name_with_a_trailing_newline_is_invalid_input(
    uow: FakeUnitOfWork, name: str
) -> None:
    async with uow:
        with pytest.raises(InvalidInput):
            await create_api_key(uow, name=name, role=Role.STAFF)


@pytest.mark.parametrize("name", ["a", "a" * 64, "shop-ui.v2:prod_1", "9lives"])
async def test_good_names_are_accepted(uow: FakeUnitOfWork, name: str) -> None:
    await issue(uow, name)
    assert await uow.api_keys.get_by_name(name) is not None


@pytest.mark.parametrize("value", ["admin", "staff", "readonly"])
def test_parse_role_accepts_known_roles(value: str) -> None:
    assert parse_role(value) is Role(value)


@pytest.mark.parametrize("value", ["bogus", "ADMIN ", "", "root"])
def test_parse_role_rejects_unknown_roles_listing_the_allowed_ones(value: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_role(value)
    assert raised.value.field == "role"
    assert "admin, staff, readonly" in raised.value.message


async def test_authenticate_a_good_key_is_its_principal(uow: FakeUnitOfWork) -> None:
    secret = await issue(uow, "warehouse-screen", Role.READONLY)
    async with uow:
        principal = await authenticate(uow, secret)
    assert principal == Principal(name="warehouse-screen", role=Role.READONLY)


async def test_authenticate_an_unknown_key_is_none(uow: FakeUnitOfWork) -> None:
    secret = await issue(uow, "known")
    async with uow:
        assert await authenticate(uow, secret + "x") is None
        assert await authenticate(uow, "nexo_never-issued") is None


async def test_authenticate_a_revoked_key_is_none(uow: FakeUnitOfWork) -> None:
    secret = await issue(uow, "leaked")
    async with uow:
        await revoke_api_key(uow, name="leaked")
        await uow.commit()

    async with uow:
        assert await authenticate(uow, secret) is None


async def test_revoke_publishes_a_revoked_event_on_commit(uow: FakeUnitOfWork) -> None:
    await issue(uow, "leaked")
    async with uow:
        await revoke_api_key(uow, name="leaked")
        await uow.commit()

    assert uow.published[-1] == Event(API_KEY_EVENTS, {"kind": "revoked", "name": "leaked"})
    key = await uow.api_keys.get_by_name("leaked")
    assert key is not None
    assert key.revoked_at is not None


async def test_revoke_unknown_is_not_found(uow: FakeUnitOfWork) -> None:
    async with uow:
        with pytest.raises(NotFound) as raised:
            await revoke_api_key(uow, name="ghost")
        assert uow.pending_events == []
    assert raised.value.field == "name"


async def test_revoke_twice_is_not_found_the_second_time(uow: FakeUnitOfWork) -> None:
    await issue(uow, "leaked")
    async with uow:
        await revoke_api_key(uow, name="leaked")
        await uow.commit()

    async with uow:
        with pytest.raises(NotFound):
            await revoke_api_key(uow, name="leaked")
    assert [e.payload["kind"] for e in uow.published] == ["created", "revoked"]


async def test_bootstrap_issues_one_admin_key_when_there_are_none(uow: FakeUnitOfWork) -> None:
    async with uow:
        issued = await bootstrap_admin_key(uow)
        await uow.commit()

    assert issued is not None
    assert issued.key.name == BOOTSTRAP_KEY_NAME
    assert issued.key.role is Role.ADMIN
    async with uow:
        assert await authenticate(uow, issued.secret) == Principal(BOOTSTRAP_KEY_NAME, Role.ADMIN)


async def test_bootstrap_happens_once(uow: FakeUnitOfWork) -> None:
    async with uow:
        assert await bootstrap_admin_key(uow) is not None
        await uow.commit()

    async with uow:
        assert await bootstrap_admin_key(uow) is None
    assert len(await uow.api_keys.list()) == 1


async def test_no_bootstrap_when_a_key_exists(uow: FakeUnitOfWork) -> None:
    await issue(uow, "made-by-cli", Role.STAFF)

    async with uow:
        assert await bootstrap_admin_key(uow) is None
    assert [k.name for k in await uow.api_keys.list()] == ["made-by-cli"]


async def test_no_new_bootstrap_after_the_bootstrap_key_is_revoked(uow: FakeUnitOfWork) -> None:
    async with uow:
        assert await bootstrap_admin_key(uow) is not None
        await uow.commit()
    async with uow:
        await revoke_api_key(uow, name=BOOTSTRAP_KEY_NAME)
        await uow.commit()

    async with uow:
        assert await bootstrap_admin_key(uow) is None


async def test_no_bootstrap_when_every_key_was_revoked(uow: FakeUnitOfWork) -> None:
    async with uow:
        await create_api_key(uow, name="ops", role=Role.ADMIN)
        await uow.commit()
    async with uow:
        await revoke_api_key(uow, name="ops")
        await uow.commit()

    async with uow:
        assert await bootstrap_admin_key(uow) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer nexo_abc", "nexo_abc"),
        ("bearer nexo_abc", "nexo_abc"),
        ("BEARER nexo_abc", "nexo_abc"),
        ("  Bearer   nexo_abc  ", "nexo_abc"),
        (None, None),
        ("", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("Bearer    ", None),
        ("Basic dXNlcjpwYXNz", None),
        ("Token nexo_abc", None),
        ("Bearernexo_abc", None),
        ("nexo_abc", None),
    ],
)
def test_parse_bearer(header: str | None, expected: str | None) -> None:
    assert parse_bearer(header) == expected


def test_hash_secret_is_stable_hex_and_distinguishes_secrets() -> None:
    digest = hash_secret("nexo_a")
    assert digest == hash_secret("nexo_a")
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert digest != hash_secret("nexo_b")


def test_roles_grant_what_they_say() -> None:
    assert [(r, r.can_mutate, r.can_manage_keys) for r in Role] == [
        (Role.ADMIN, True, True),
        (Role.STAFF, True, False),
        (Role.READONLY, False, False),
    ]
