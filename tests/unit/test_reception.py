"""Inbound requests arriving, without I/O: how an event is identified on arrival."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from adapters.desks.reception import identify
from domain.channels.port import ChannelRejected, InboundEvent, InboundIdentity, InboundKind

# Identifying an event on arrival


class Port:
    """Only what `identify` uses of a channel port: headers that name the event, or not."""

    def __init__(self, event: InboundEvent | None, named: InboundIdentity | None = None):
        self.event = event
        self.named = named
        self.parsed = 0

    def identify_webhook(self, headers: Mapping[str, str]) -> InboundIdentity | None:
        return self.named

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> InboundEvent:
        self.parsed += 1
        if self.event is None:
            raise ChannelRejected("not JSON")
        return self.event


def test_an_event_its_headers_name_is_identified_without_reading_the_payload() -> None:
    port = Port(None, InboundIdentity("evt-7", "orders/create", InboundKind.ORDER))
    identity = identify(port, {}, b"not even json")  # type: ignore[arg-type]
    assert identity == InboundIdentity("evt-7", "orders/create", InboundKind.ORDER)
    assert port.parsed == 0


def test_an_event_is_identified_by_the_channels_event_id_topic_and_kind() -> None:
    at = datetime(2026, 1, 5, tzinfo=UTC)
    event = InboundEvent("evt-1", InboundKind.STOCK_EDIT, "inventory_levels/update", at)
    identity = identify(Port(event), {}, b"{}")  # type: ignore[arg-type]
    assert (identity.event_id, identity.topic, identity.kind) == (
        "evt-1",
        "inventory_levels/update",
        InboundKind.STOCK_EDIT,
    )


def test_an_unreadable_event_is_identified_by_its_bytes_so_redeliveries_are_one() -> None:
    first = identify(Port(None), {}, b"not json")  # type: ignore[arg-type]
    again = identify(Port(None), {}, b"not json")  # type: ignore[arg-type]
    other = identify(Port(None), {}, b"not json either")  # type: ignore[arg-type]
    assert first == again
    assert first.event_id.startswith("sha256:")
    assert other.event_id != first.event_id
    assert (first.topic, first.kind) == ("unknown", None)


def test_an_overlong_event_id_is_kept_as_its_digest() -> None:
    event = InboundEvent("x" * 500, InboundKind.OTHER, "products/update", None)
    identity = identify(Port(event), {}, b"{}")  # type: ignore[arg-type]
    assert identity.event_id.startswith("sha256:")
    assert len(identity.event_id) <= 200
