"""A faithful local MercadoLibre: OAuth with single-use refresh tokens, items (classic, with
`variations`, and User Products), orders and packs, shipments (ME1 and ME2) and unsigned
pointer notifications — following channel-contracts §4, MercadoLibre's only contract.

`MercadoLibreSandbox().app` is an ASGI app to mount, run (`nexo-sandbox mercadolibre --port
P`) or drive through `httpx.ASGITransport`; its Python face lets tests act as buyers and the
merchant.
"""

from sandbox.mercadolibre.app import MercadoLibreSandbox

__all__ = ["MercadoLibreSandbox"]
