"""Every channel kind's listing format, by the kind's name: where the sync engine finds them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from adapters.channels.amazon.mapping import AmazonListingFormat
from adapters.channels.ebay.mapping import EbayListingFormat
from adapters.channels.mercadolibre.mapping import MercadoLibreListingFormat
from adapters.channels.shopify.mapping import ShopifyListingFormat
from adapters.channels.webstore.mapping import WebstoreListingFormat
from domain.catalog.listing import ListingFormat
from domain.inventory.channels import ChannelKind

LISTING_FORMATS: Final[Mapping[str, ListingFormat]] = MappingProxyType(
    {
        ChannelKind.SHOPIFY.value: ShopifyListingFormat(),
        ChannelKind.AMAZON.value: AmazonListingFormat(),
        ChannelKind.EBAY.value: EbayListingFormat(),
        ChannelKind.MERCADOLIBRE.value: MercadoLibreListingFormat(),
        ChannelKind.WEBSTORE.value: WebstoreListingFormat(),
    }
)
