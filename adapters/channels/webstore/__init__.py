"""Nexo's own webstore."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from adapters.channel_kit.descriptor import ChannelDescriptor, ChannelServices, PortFactory
from adapters.channels.webstore.mapping import WebstoreListingFormat
from adapters.channels.webstore.port import CAPABILITIES, WebstoreChannel
from domain.channels.config import ChannelConfig
from domain.channels.model import Channel, ChannelKind
from domain.channels.port import ChannelPort


def _connect(services: ChannelServices) -> PortFactory:
    store = WebstoreChannel()  # it calls nothing and holds nothing: one serves every web store

    def port(
        channel: Channel, config: ChannelConfig, credentials: Mapping[str, str]
    ) -> ChannelPort:
        return store

    return port


# Its orders come through Nexo's checkout (placeOrder), never through the port: no mapper.
CHANNEL: Final = ChannelDescriptor(
    kind=ChannelKind.WEBSTORE,
    listing_format=WebstoreListingFormat(),
    capabilities=CAPABILITIES,
    connect=_connect,
    needs_credentials=False,
)
