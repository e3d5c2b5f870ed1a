"""Every kind of channel the contract suite runs on: a marketplace adds its line here."""

from __future__ import annotations

from tests.contract.amazon import amazon
from tests.contract.channel import Start
from tests.contract.ebay import ebay
from tests.contract.mercadolibre import mercadolibre, mercadolibre_up
from tests.contract.shopify import shopify

KINDS: dict[str, Start] = {
    "shopify": shopify,
    "amazon": amazon,
    "ebay": ebay,
    "mercadolibre": mercadolibre,
    "mercadolibre_up": mercadolibre_up,
}
