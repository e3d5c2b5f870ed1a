"""The channel kinds this process speaks, by kind: built once from the composition root's list."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

from adapters.channel_kit.descriptor import ChannelDescriptor, ChannelServices, PortFactory
from adapters.channel_kit.queues import QueueFactory
from domain.channels.config import ChannelConfig
from domain.channels.listing import ListingFormat


class ChannelRegistry:
    def __init__(self, descriptors: Iterable[ChannelDescriptor]):
        found: dict[str, ChannelDescriptor] = {}
        for descriptor in descriptors:
            if descriptor.kind.value in found:
                raise ValueError(f"channel kind {descriptor.kind.value} is registered twice")
            found[descriptor.kind.value] = descriptor
        self._by_kind = MappingProxyType(found)
        self.listing_formats: Mapping[str, ListingFormat] = MappingProxyType(
            {kind: d.listing_format for kind, d in found.items()}
        )

    def __iter__(self) -> Iterator[ChannelDescriptor]:
        return iter(self._by_kind.values())

    def get(self, kind: str) -> ChannelDescriptor | None:
        return self._by_kind.get(kind)

    def factories(self, services: ChannelServices) -> dict[str, PortFactory]:
        """The port factory of each kind that can connect, given the process's services."""
        return {
            kind: d.connect(services) for kind, d in self._by_kind.items() if d.connect is not None
        }

    def queues(self, services: ChannelServices) -> dict[str, QueueFactory]:
        """The queue factory of each kind whose notifications the hub reads from a queue."""
        return {
            kind: d.notification_queue(services)
            for kind, d in self._by_kind.items()
            if d.notification_queue is not None
        }

    def kept_headers(self, kind: str) -> tuple[str, ...]:
        descriptor = self._by_kind.get(kind)
        return descriptor.kept_headers if descriptor is not None else ()

    def needs_credentials(self, kind: str) -> bool:
        descriptor = self._by_kind.get(kind)
        return descriptor is None or descriptor.needs_credentials

    def setup_problem(self, kind: str, config: ChannelConfig) -> str | None:
        descriptor = self._by_kind.get(kind)
        if descriptor is None or descriptor.setup_problem is None:
            return None
        return descriptor.setup_problem(config)
