"""Every marketplace sandbox, inside the demo's process, and how Nexo connects to each.

Each is mounted at `/sandbox/<kind>` on the demo's own port: Nexo's channel adapters call
them over HTTP as they would call the real APIs, and they send their webhooks back to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.applications import Starlette

from sandbox.amazon import AmazonSandbox
from sandbox.ebay import EbaySandbox
from sandbox.mercadolibre import MercadoLibreSandbox
from sandbox.shopify import ShopifySandbox
from sandbox.shopify.faults import Faults

SHOP_LOCATION = "gid://shopify/Location/1"
AMAZON_NODE = "2419332011"  # a browse node under Clothing
MELI_CATEGORY = "MLA109282"
# What each sandbox accepts by default ("{url}": where the sandbox answers), and the listing
# settings each channel needs; the fault harness (bench/faults) connects its processes so too.
CREDENTIALS: Mapping[str, Mapping[str, str]] = {
    "shopify": {"shop_domain": "nexo-demo.myshopify.com", "access_token": "shpat_sandbox",
                "api_secret": "sandbox-secret"},
    "amazon": {"client_id": "amzn1.application-oa2-client.sandbox",
               "client_secret": "sandbox-client-secret",
               "refresh_token": "Atzr|sandbox-refresh-token",
               "token_url": "{url}/auth/o2/token", "queue_url": "{url}/sqs",
               "aws_access_key_id": "AKIASANDBOXQUEUE0001",
               "aws_secret_access_key": "sandbox/aws-secret-access-key",
               "aws_region": "us-east-1"},
    "ebay": {"client_id": "nexo-sandbox-app", "client_secret": "sandbox-secret",
             "refresh_token": "v^1.1#sandbox-refresh",
             "verification_token": "sandbox-verification-token-0123456789abcdef"},
    "mercadolibre": {"client_id": "4242424242", "client_secret": "sandbox-secret",
                     "refresh_token": "TG-sandbox-refresh", "user_id": "123456789"},
}  # fmt: skip
SETTINGS: Mapping[str, Mapping[str, str]] = {
    "shopify": {"locationId": SHOP_LOCATION},
    "amazon": {"sellerId": "A2SANDBOXSELLER1", "marketplaceId": "ATVPDKIKX0DER",
               "productType": "SHIRT"},
    "ebay": {"marketplaceId": "EBAY_US", "merchantLocationKey": "WH-1",
             "fulfillmentPolicyId": "6196947000", "paymentPolicyId": "6196944000",
             "returnPolicyId": "6196946000", "categoryId": "15687"},
    "mercadolibre": {"listingModel": "classic", "listingTypeId": "gold_special",
                     "shippingMode": "me1"},
}  # fmt: skip
CHANNEL_CATEGORY: Mapping[str, str] = {"amazon": AMAZON_NODE, "mercadolibre": MELI_CATEGORY}


@dataclass
class Marketplace:
    """One sandbox and the channel Nexo keeps for it."""

    name: str
    kind: str
    path: str
    app: Starlette
    faults: Faults
    credentials: Mapping[str, str]
    settings: Mapping[str, str] = field(default_factory=dict)
    channel_category: str | None = None
    buffer: int = 0

    def credentials_at(self, base_url: str) -> dict[str, str]:
        """The credentials, with the sandbox's URLs on the demo's address."""
        url = f"{base_url}{self.path}"
        given = {k: v.replace("{url}", url) for k, v in self.credentials.items()}
        return {**given, "api_url": url}


@dataclass
class Sandboxes:
    shopify: ShopifySandbox
    amazon: AmazonSandbox
    ebay: EbaySandbox
    meli: MercadoLibreSandbox

    @classmethod
    def start(cls) -> Sandboxes:
        return cls(
            ShopifySandbox(deliver_in_background=True),
            AmazonSandbox(settle_in_background=True, apply_delay=0.5),
            EbaySandbox(deliver_in_background=True),
            MercadoLibreSandbox(deliver_in_background=True),
        )

    def marketplaces(self) -> list[Marketplace]:
        return [
            Marketplace(
                "Shopify (sandbox)", "shopify", "/sandbox/shopify", self.shopify.app,
                self.shopify.faults, CREDENTIALS["shopify"], SETTINGS["shopify"], buffer=1,
            ),
            Marketplace(
                "Amazon (sandbox)", "amazon", "/sandbox/amazon", self.amazon.app,
                self.amazon.faults, CREDENTIALS["amazon"], SETTINGS["amazon"],
                channel_category=AMAZON_NODE,
            ),
            Marketplace(
                "eBay (sandbox)", "ebay", "/sandbox/ebay", self.ebay.app, self.ebay.faults,
                CREDENTIALS["ebay"], SETTINGS["ebay"],
            ),
            Marketplace(
                "MercadoLibre (sandbox)", "mercadolibre", "/sandbox/mercadolibre",
                self.meli.app, self.meli.faults, CREDENTIALS["mercadolibre"],
                SETTINGS["mercadolibre"], channel_category=MELI_CATEGORY,
            ),
        ]  # fmt: skip

    async def place_order(self, kind: str, lines: list[tuple[str, int]]) -> None:
        """A buyer checks out on the marketplace `kind`."""
        if kind == "shopify":
            await self.shopify.place_order(lines)
        elif kind == "amazon":
            self.amazon.place_order(lines)
        elif kind == "ebay":
            await self.ebay.place_order(lines)
        elif kind == "mercadolibre":
            await self.meli.place_order(lines)
        else:
            raise ValueError(f"no sandbox for {kind}")

    def apps(self) -> list[Starlette]:
        return [self.shopify.app, self.amazon.app, self.ebay.app, self.meli.app]
