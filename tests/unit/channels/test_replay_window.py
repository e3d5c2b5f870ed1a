"""The replay window's edges, its defaults, and which channels sign a send time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from adapters.channels.ebay.adapter import EbayChannel
from adapters.channels.ebay.notifications import published_at
from adapters.channels.shopify.adapter import ShopifyChannel
from adapters.channels.webstore.port import WebstoreChannel
from adapters.settings import Settings, SettingsError, load_settings
from domain.channels.port import SignedSendTime
from domain.channels.replay import ReplayWindow

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
WINDOW = ReplayWindow(past=timedelta(seconds=300), skew=timedelta(seconds=60))


@pytest.mark.parametrize(
    ("offset", "refused"),
    [
        (0, None),
        (-300, None),  # sent exactly the window ago
        (-300.001, "sent 300 s ago, past the 300 s replay window"),
        (-86_400 * 3, "sent 259200 s ago, past the 300 s replay window"),
        (60, None),  # the sender's clock ahead by exactly the skew
        (60.001, "sent 60 s ahead of the hub's clock, past the skew allowed"),
    ],
)
def test_the_window_takes_its_edges_in_and_refuses_past_them(
    offset: float, refused: str | None
) -> None:
    assert WINDOW.refusal(NOW + timedelta(seconds=offset), NOW) == refused


def test_a_delivery_without_a_signed_send_time_is_refused() -> None:
    assert WINDOW.refusal(None, NOW) == "no signed send time"


def test_the_defaults_are_five_minutes_and_a_minute_of_skew_and_no_window_is_refused() -> None:
    settings = Settings()
    assert settings.webhook_replay_window_seconds == 300
    assert settings.webhook_clock_skew_seconds == 60
    with pytest.raises(SettingsError, match="NEXO_WEBHOOK_REPLAY_WINDOW_SECONDS"):
        load_settings(webhook_replay_window_seconds=0)
    with pytest.raises(SettingsError, match="NEXO_WEBHOOK_CLOCK_SKEW_SECONDS"):
        load_settings(webhook_clock_skew_seconds=-1)


def test_ebays_publish_date_is_the_send_time_in_utc() -> None:
    def body(notification: object) -> bytes:
        return json.dumps({"notification": notification}).encode()

    zoned = {"eventDate": "2026-01-01T00:00:00.000Z", "publishDate": "2026-12-07T12:00:00.250Z"}
    assert published_at(body(zoned)) == NOW + timedelta(milliseconds=250)
    assert published_at(body({"publishDate": "2026-12-07T12:00:00"})) == NOW  # no zone: UTC
    for unreadable in ({"eventDate": "2026-12-07T12:00:00Z"}, {"publishDate": "yesterday"}, []):
        assert published_at(body(unreadable)) is None
    assert published_at(b"not json") is None


def test_only_channels_that_sign_their_send_time_are_judged_by_it() -> None:
    """Shopify signs the body alone: its `X-Shopify-Triggered-At` is anyone's to rewrite, and
    the body's `updated_at` is the resource's time, which a retry (for hours) keeps. The web
    store sends no webhooks at all."""
    assert issubclass(EbayChannel, SignedSendTime)
    assert not issubclass(ShopifyChannel, SignedSendTime)
    assert not issubclass(WebstoreChannel, SignedSendTime)
