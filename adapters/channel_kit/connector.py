"""Building a channel's port from its kind, configuration and sealed credentials."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from adapters.channel_kit.descriptor import ChannelServices, PortFactory
from adapters.channel_kit.queues import NotificationQueue, QueueFactory
from adapters.channel_kit.registry import ChannelRegistry
from domain.catalog.ports import SecretBox
from domain.channels.config import ChannelConfig
from domain.channels.model import Channel
from domain.channels.port import ChannelFailure, ChannelMisconfigured, ChannelPort, WebhookVerifier
from domain.ports import UnitOfWorkFactory


class ChannelConnector:
    """Every registered kind's port factory, given this process's HTTP client and limiter."""

    def __init__(
        self,
        secrets: Callable[[], SecretBox],
        registry: ChannelRegistry,
        services: ChannelServices,
    ):
        self._secrets = secrets
        self._registry = registry
        self._factories = registry.factories(services)
        self._queues = registry.queues(services)
        self.generation = 0  # counts registrations: ports built before one are outdated

    def register(self, kind: str, factory: PortFactory) -> None:
        self._factories[kind] = factory
        self.generation += 1

    def connect(
        self, channel: Channel, config: ChannelConfig, sealed_credentials: bytes | None
    ) -> ChannelPort:
        kind = channel.kind.value
        factory = self._factories.get(kind)
        if factory is None:
            raise ChannelMisconfigured(f"no {kind} adapter is installed")
        if not self._registry.needs_credentials(kind):
            return factory(channel, config, {})
        if sealed_credentials is None:
            raise ChannelMisconfigured(f"{channel.name} has no credentials")
        return factory(channel, config, self._open(channel, sealed_credentials))

    def register_queue(self, kind: str, factory: QueueFactory) -> None:
        self._queues[kind] = factory
        self.generation += 1

    def queue(
        self, channel: Channel, config: ChannelConfig, sealed_credentials: bytes | None
    ) -> NotificationQueue | None:
        """The queue the channel's notifications wait in; None when its kind has none (it
        sends webhooks) or it is not set up. Raises ChannelMisconfigured as `connect` does."""
        factory = self._queues.get(channel.kind.value)
        if factory is None or sealed_credentials is None:
            return None
        return factory(channel, config, self._open(channel, sealed_credentials))

    def _open(self, channel: Channel, sealed_credentials: bytes) -> dict[str, str]:
        try:
            credentials: dict[str, str] = json.loads(self._secrets().open(sealed_credentials))
        except ValueError:
            raise ChannelMisconfigured(
                f"{channel.name}'s credentials cannot be opened with this NEXO_SECRET_KEY"
            ) from None
        return credentials

    def setup_problem(self, channel: Channel, config: ChannelConfig) -> str | None:
        return self._registry.setup_problem(channel.kind.value, config)

    def kept_headers(self, kind: str) -> tuple[str, ...]:
        """The headers kept with an inbound event of this kind: the channel's own, which its
        port reads again when the event is processed (topic, event id, signature, time)."""
        return self._registry.kept_headers(kind)


class WebhookVerifiers:
    """Each channel's webhook verifier, built once per process and then remembered.

    Building one reads the channel, its configuration and credentials (three queries), opens
    the credentials and builds the adapter: too much to repeat for every webhook. What is
    remembered can be outdated by a change made in another process; `reception.receive` finds
    out as it stores the event (its statement checks the credentials) and asks for a fresh
    one. Channels without a verifier are not remembered (an unknown id costs a query).
    """

    def __init__(self, connector: ChannelConnector, uows: UnitOfWorkFactory):
        self._connector = connector
        self._uows = uows
        self._known: dict[uuid.UUID, WebhookVerifier] = {}
        self._generation = connector.generation

    async def get(self, channel_id: uuid.UUID, *, fresh: bool = False) -> WebhookVerifier | str:
        if self._generation != self._connector.generation:
            self._known.clear()
            self._generation = self._connector.generation
        known = None if fresh else self._known.get(channel_id)
        if known is not None:
            return known
        found = await self._build(channel_id)
        if isinstance(found, str):
            self._known.pop(channel_id, None)
        else:
            self._known[channel_id] = found
        return found

    async def _build(self, channel_id: uuid.UUID) -> WebhookVerifier | str:
        async with self._uows(readonly=True) as uow:
            channel = await uow.channels.get(channel_id)
            if channel is None:
                return "unknown channel"
            config = await uow.channel_configs.get(channel_id) or ChannelConfig(channel_id)
            sealed = await uow.channel_configs.credentials(channel_id)
        if sealed is None:
            return "no credentials"
        try:
            port = self._connector.connect(channel, config, sealed)
        except ChannelFailure as failure:
            return failure.message
        kept = self._connector.kept_headers(channel.kind.value)
        return WebhookVerifier(channel_id, port, sealed, kept)
