"""Building a channel's port from its kind, configuration and sealed credentials."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from adapters.channels.webstore.port import WebstoreChannel
from domain.catalog.channel_config import ChannelConfig
from domain.catalog.ports import SecretBox
from domain.inventory.channels import Channel
from domain.sync.channel import ChannelMisconfigured, ChannelPort

# One factory per channel kind: (channel, config, credentials) -> port.
PortFactory = Callable[[Channel, ChannelConfig, Mapping[str, str]], ChannelPort]


class ChannelConnector:
    def __init__(self, secrets: Callable[[], SecretBox], factories: Mapping[str, PortFactory]):
        self._secrets = secrets
        self._factories = dict(factories)
        self._webstore = WebstoreChannel()

    def register(self, kind: str, factory: PortFactory) -> None:
        self._factories[kind] = factory

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
