"""Building a channel's port from its kind, configuration and sealed credentials."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping

from adapters.channels.webstore.port import WebstoreChannel
from domain.catalog.channel_config import ChannelConfig
from domain.catalog.ports import SecretBox
from domain.inventory.channels import Channel
from domain.ports import UnitOfWorkFactory
from domain.sync.channel import ChannelFailure, ChannelMisconfigured, ChannelPort
from domain.sync.ports import WebhookVerifier

# One factory per channel kind: (channel, config, credentials) -> port.
PortFactory = Callable[[Channel, ChannelConfig, Mapping[str, str]], ChannelPort]

# The headers kept with an event, per channel kind: the channel's own, which its port reads
# again when the event is processed (topic, event id, signature, time).
CHANNEL_HEADERS: Mapping[str, tuple[str, ...]] = {"shopify": ("x-shopify-",)}


class ChannelConnector:
    def __init__(self, secrets: Callable[[], SecretBox], factories: Mapping[str, PortFactory]):
        self._secrets = secrets
        self._factories = dict(factories)
        self._webstore = WebstoreChannel()
        self.generation = 0  # counts registrations: ports built before one are outdated

    def register(self, kind: str, factory: PortFactory) -> None:
        self._factories[kind] = factory
        self.generation += 1

    def connect(
        self, channel: Channel, config: ChannelConfig, sealed_credentials: bytes | None
    ) -> ChannelPort:
        kind = channel.kind.value
        if kind == "webstore":
            return self._webstore
        factory = self._factories.get(kind)
        if factory is None:
            raise ChannelMisconfigured(f"no {kind} adapter is installed")
        if sealed_credentials is None:
            raise ChannelMisconfigured(f"{channel.name} has no credentials")
        try:
            credentials = json.loads(self._secrets().open(sealed_credentials))
        except ValueError:
            raise ChannelMisconfigured(
                f"{channel.name}'s credentials cannot be opened with this NEXO_SECRET_KEY"
            ) from None
        return factory(channel, config, credentials)


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
        kept = CHANNEL_HEADERS.get(channel.kind.value, ())
        return WebhookVerifier(channel_id, port, sealed, kept)
