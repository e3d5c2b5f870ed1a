"""API-key use cases and bearer parsing, against in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.access import KEY_PREFIX, ApiKey, Principal, Role, hash_secret, parse_bearer
from domain.api_keys import (
    API_KEY_EVENTS,
    BOOTSTRAP_KEY_NAME,
    authenticate,
    bootstrap_admin_key,
    create_api_key,
    parse_role,
    revoke_api_key,
    rotate_api_key,
)
from domain.errors import AlreadyExists, ErrorCode, InvalidInput, NotFound
from domain.events import Event
from tests.fakes import FakeUnitOfWorkFactory


@pytest.fixture
def uows() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


def committed(uows: FakeUnitOfWorkFactory, name: str) -> ApiKey | None:
    """The key as committed."""
    return uows.committed.api_keys.get(name)


async def issue(uows: FakeUnitOfWorkFactory, name: str, role: Role = Role.STAFF) -> str:
    async with uows() as uow:
        issued = await create_api_key(uow, name=name, role=role)
        await uow.commit()
    return issued.secret


async def test_create_returns_the_secret_and_stores_only_its_hash(
    uows: FakeUnitOfWorkFactory,
) -> None:
    async with uows() as uow:
        issued = await create_api_key(uow, name="shop-ui", role=Role.READONLY)
        await uow.commit()

    assert issued.secret.startswith(KEY_PREFIX)
    assert len(issued.secret) > len(KEY_PREFIX) + 32
    stored = committed(uows, "shop-ui")
    assert stored is not None
    assert stored.role is Role.READONLY
    assert stored.active
    assert stored.key_hash == hash_secret(issued.secret)
    assert issued.secret not in repr(stored)


async def test_each_key_gets_a_different_secret(uows: FakeUnitOfWorkFactory) -> None:
    first = await issue(uows, "one")
    second = await issue(uows, "two")
    assert first != second


async def test_create_publishes_a_created_event_without_the_secret_on_commit(
    uows: FakeUnitOfWorkFactory,
) -> None:
    async with uows() as uow:
        issued = await create_api_key(uow, name="ops", role=Role.ADMIN)
        assert uows.published == []
        await uow.commit()

    assert uows.published == [
        Event(API_KEY_EVENTS, {"kind": "created", "name": "ops", "role": "admin"})
    ]
    assert issued.secret not in str(uows.published)


async def test_a_key_not_committed_is_not_kept_and_not_announced(
    uows: FakeUnitOfWorkFactory,
) -> None:
    async with uows() as uow:
        await create_api_key(uow, name="draft", role=Role.STAFF)

    assert committed(uows, "draft") is None
    assert uows.published == []


async def test_duplicate_name_is_already_exists_and_changes_nothing(
    uows: FakeUnitOfWorkFactory,
) -> None:
    await issue(uows, "shop-ui")
    events_before = list(uows.published)

    async with uows() as uow:
        with pytest.raises(AlreadyExists) as raised:
            await create_api_key(uow, name="shop-ui", role=Role.ADMIN)
        assert uow.pending_events == []

    assert raised.value.field == "name"
    assert raised.value.code is ErrorCode.ALREADY_EXISTS
    assert len(uows.committed.api_keys) == 1
    kept = committed(uows, "shop-ui")
    assert kept is not None
    assert kept.role is Role.STAFF
    assert uows.published == events_before


async def test_a_revoked_keys_name_cannot_be_reused(uows: FakeUnitOfWorkFactory) -> None:
    await issue(uows, "old")
    async with uows() as uow:
        await revoke_api_key(uow, name="old")
        await uow.commit()

    async with uows() as uow:
        with pytest.raises(AlreadyExists):
            await create_api_key(uow, name="old", role=Role.STAFF)


@pytest.mark.parametrize(
    "name", ["", " ", "-leading-dash", ".hidden", "has space", "a" * 65, "emoji-🔑", "tab\t"]
)
async def test_bad_name_is_invalid_input(uows: FakeUnitOfWorkFactory, name: str) -> None:
    async with uows() as uow:
        with pytest.raises(InvalidInput) as raised:
            await create_api_key(uow, name=name, role=Role.STAFF)

    assert raised.value.field == "name"
    assert uows.committed.api_keys == {}


@pytest.mark.parametrize("name", ["shop\n", "a" * 64 + "\n"])
async def test_name_with_a_trailing_newline_is_invalid_input(
    uows: FakeUnitOfWorkFactory, name: str
) -> None:
    async with uows() as uow:
        with pytest.raises(InvalidInput):
            await create_api_key(uow, name=name, role=Role.STAFF)


@pytest.mark.parametrize("name", ["a", "a" * 64, "shop-ui.v2:prod_1", "9lives"])
async def test_good_names_are_accepted(uows: FakeUnitOfWorkFactory, name: str) -> None:
    await issue(uows, name)
    assert committed(uows, name) is not None


@pytest.mark.parametrize("value", ["admin", "staff", "readonly"])
def test_parse_role_accepts_known_roles(value: str) -> None:
    assert parse_role(value) is Role(value)


@pytest.mark.parametrize("value", ["bogus", "ADMIN ", "", "root"])
def test_parse_role_rejects_unknown_roles_listing_the_allowed_ones(value: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_role(value)
    assert raised.value.field == "role"
    assert "admin, staff, readonly" in raised.value.message


async def test_authenticate_a_good_key_is_its_principal(uows: FakeUnitOfWorkFactory) -> None:
    secret = await issue(uows, "warehouse-screen", Role.READONLY)
    async with uows() as uow:
        principal = await authenticate(uow, secret)
    assert principal == Principal(name="warehouse-screen", role=Role.READONLY)


async def test_authenticate_an_unknown_key_is_none(uows: FakeUnitOfWorkFactory) -> None:
    secret = await issue(uows, "known")
    async with uows() as uow:
        assert await authenticate(uow, secret + "x") is None
        assert await authenticate(uow, "nexo_never-issued") is None


async def test_authenticate_a_revoked_key_is_none(uows: FakeUnitOfWorkFactory) -> None:
    secret = await issue(uows, "leaked")
    async with uows() as uow:
        await revoke_api_key(uow, name="leaked")
        await uow.commit()

    async with uows() as uow:
        assert await authenticate(uow, secret) is None


async def test_revoke_publishes_a_revoked_event_on_commit(uows: FakeUnitOfWorkFactory) -> None:
    await issue(uows, "leaked")
    async with uows() as uow:
        await revoke_api_key(uow, name="leaked")
        await uow.commit()

    assert uows.published[-1] == Event(API_KEY_EVENTS, {"kind": "revoked", "name": "leaked"})
    key = committed(uows, "leaked")
    assert key is not None
    assert key.revoked_at is not None


async def test_revoke_unknown_is_not_found(uows: FakeUnitOfWorkFactory) -> None:
    async with uows() as uow:
        with pytest.raises(NotFound) as raised:
            await revoke_api_key(uow, name="ghost")
        assert uow.pending_events == []
    assert raised.value.field == "name"


async def test_revoke_twice_is_not_found_the_second_time(uows: FakeUnitOfWorkFactory) -> None:
    await issue(uows, "leaked")
    async with uows() as uow:
        await revoke_api_key(uow, name="leaked")
        await uow.commit()

    async with uows() as uow:
        with pytest.raises(NotFound):
            await revoke_api_key(uow, name="leaked")
    assert [e.payload["kind"] for e in uows.published] == ["created", "revoked"]


async def test_bootstrap_issues_one_admin_key_when_there_are_none(
    uows: FakeUnitOfWorkFactory,
) -> None:
    async with uows() as uow:
        issued = await bootstrap_admin_key(uow)
        await uow.commit()

    assert issued is not None
    assert issued.key.name == BOOTSTRAP_KEY_NAME
    assert issued.key.role is Role.ADMIN
    async with uows() as uow:
        assert await authenticate(uow, issued.secret) == Principal(BOOTSTRAP_KEY_NAME, Role.ADMIN)


async def test_bootstrap_happens_once(uows: FakeUnitOfWorkFactory) -> None:
    async with uows() as uow:
        assert await bootstrap_admin_key(uow) is not None
        await uow.commit()

    async with uows() as uow:
        assert await bootstrap_admin_key(uow) is None
    assert len(uows.committed.api_keys) == 1


async def test_no_bootstrap_when_a_key_exists(uows: FakeUnitOfWorkFactory) -> None:
    await issue(uows, "made-by-cli", Role.STAFF)

    async with uows() as uow:
        assert await bootstrap_admin_key(uow) is None
    assert list(uows.committed.api_keys) == ["made-by-cli"]


async def test_no_new_bootstrap_after_the_bootstrap_key_is_revoked(
    uows: FakeUnitOfWorkFactory,
) -> None:
    async with uows() as uow:
        assert await bootstrap_admin_key(uow) is not None
        await uow.commit()
    async with uows() as uow:
        await revoke_api_key(uow, name=BOOTSTRAP_KEY_NAME)
        await uow.commit()

    async with uows() as uow:
        assert await bootstrap_admin_key(uow) is None


async def test_no_bootstrap_when_every_key_was_revoked(uows: FakeUnitOfWorkFactory) -> None:
    async with uows() as uow:
        await create_api_key(uow, name="ops", role=Role.ADMIN)
        await uow.commit()
    async with uows() as uow:
        await revoke_api_key(uow, name="ops")
        await uow.commit()

    async with uows() as uow:
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
        # Its mutations are the few open to partners, fenced into its location.
        (Role.PARTNER, True, False),
    ]


async def test_a_rotated_secret_works_until_its_deadline_and_not_from_it(
    uows: FakeUnitOfWorkFactory,
) -> None:
    old = await issue(uows, "pos")
    t0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    async with uows() as uow:
        issued = await rotate_api_key(uow, name="pos", grace=timedelta(hours=1), now=t0)
        await uow.commit()
    new = issued.secret
    async with uows(readonly=True) as uow:
        before_deadline = t0 + timedelta(minutes=59)
        assert await authenticate(uow, old, now=before_deadline) == Principal("pos", Role.STAFF)
        assert await authenticate(uow, old, now=t0 + timedelta(hours=1)) is None
        assert await authenticate(uow, new, now=t0 + timedelta(days=365)) is not None
    stored = committed(uows, "pos")
    assert stored is not None
    assert new not in repr(stored)  # only hashes are kept
    assert stored.key_hash == hash_secret(new)


async def test_a_revoked_key_refuses_both_secrets(uows: FakeUnitOfWorkFactory) -> None:
    old = await issue(uows, "pos")
    async with uows() as uow:
        issued = await rotate_api_key(uow, name="pos", grace=timedelta(hours=1))
        await revoke_api_key(uow, name="pos")
        await uow.commit()
    async with uows(readonly=True) as uow:
        assert await authenticate(uow, old) is None
        assert await authenticate(uow, issued.secret) is None
