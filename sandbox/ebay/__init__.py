"""A faithful local eBay: the Sell Inventory and Fulfillment APIs, OAuth refresh, and signed
notifications with the Notification API's public keys.

`EbaySandbox().app` is an ASGI app to mount, run (`nexo-sandbox ebay --port P`) or drive
through `httpx.ASGITransport`; its Python face lets tests act as buyers and the merchant.
"""

from sandbox.ebay.app import EbaySandbox

__all__ = ["EbaySandbox"]
