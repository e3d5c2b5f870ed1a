"""A faithful local Shopify: the Admin GraphQL API 2026-01 and its webhooks.

`ShopifySandbox().app` is an ASGI app to mount, run (`nexo-sandbox shopify --port P`) or drive
through `httpx.ASGITransport`. See the modules for the Shopify behaviour each one emulates.
"""

from sandbox.shopify.app import ShopifySandbox
from sandbox.shopify.faults import Faults
from sandbox.shopify.schema import API_VERSION

__all__ = ["API_VERSION", "Faults", "ShopifySandbox"]
