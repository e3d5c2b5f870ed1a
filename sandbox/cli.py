"""`nexo-sandbox`: the development tools beside Nexo, the marketplace emulators and the demo.

Never a production code path: the production packages (domain, api, adapters, workers) never
import `sandbox` (an import-linter contract). This is the entry point that wires the two.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from starlette.types import ASGIApp

from adapters.settings import Settings, SettingsError, load_settings
from api.cli import serve

DEMO_GRACEFUL_SECONDS = 2


def _fail(message: str, code: int = 2) -> int:
    print(f"nexo-sandbox: {message}", file=sys.stderr)
    return code


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.is_dev:
        return _fail("the demo (a marketplace sandbox in the process) is dev only")
    if args.orders_per_minute is not None:
        # The app is built by uvicorn's factory, which reads the demo's settings from here.
        os.environ["NEXO_DEMO_ORDERS_PER_MINUTE"] = str(args.orders_per_minute)
    # The demo calls itself (its sandboxes, their webhooks): on the way out, calls caught
    # between the two are cut short rather than waited for.
    return serve(
        settings, host=args.host, port=args.port, app="sandbox.demo:create_demo_app",
        graceful_seconds=DEMO_GRACEFUL_SECONDS,
    )  # fmt: skip


def _run(app: ASGIApp, settings: Settings, args: argparse.Namespace) -> int:
    """Serve one emulator in this process until stopped."""
    import uvicorn

    uvicorn.run(
        app, host=args.host, port=args.port, log_config=None,
        log_level=settings.log_level.lower(), lifespan="on",
        access_log=settings.log_level == "DEBUG",
    )  # fmt: skip
    return 0


def _shopify(settings: Settings, args: argparse.Namespace) -> int:
    from sandbox.shopify import ShopifySandbox

    emulator = ShopifySandbox(
        shop=args.shop,
        access_token=args.access_token,
        api_secret=args.api_secret,
        webhook_url=args.webhook_url,
        restore_rate=args.restore_rate,
        bucket_size=args.bucket_size,
        deliver_in_background=True,
    )
    return _run(emulator.app, settings, args)


def _amazon(settings: Settings, args: argparse.Namespace) -> int:
    from sandbox.amazon import AmazonSandbox

    emulator = AmazonSandbox(
        seller_id=args.seller_id,
        marketplace_id=args.marketplace_id,
        apply_delay=args.apply_delay,
        feed_rate=args.feed_rate,
        settle_in_background=True,
    )
    return _run(emulator.app, settings, args)


def _ebay(settings: Settings, args: argparse.Namespace) -> int:
    from sandbox.ebay import EbaySandbox

    emulator = EbaySandbox(
        client_id=args.client_id,
        client_secret=args.client_secret,
        refresh_token=args.refresh_token,
        verification_token=args.verification_token,
        deliver_in_background=True,
    )
    return _run(emulator.app, settings, args)


def _mercadolibre(settings: Settings, args: argparse.Namespace) -> int:
    from sandbox.mercadolibre import MercadoLibreSandbox

    emulator = MercadoLibreSandbox(
        client_id=args.client_id, client_secret=args.client_secret,
        refresh_token=args.refresh_token, seller_id=args.seller_id,
        user_products=args.user_products, calls_per_second=args.calls_per_second,
        up_stock_per_minute=args.up_stock_calls_per_minute,
        deliver_in_background=True,
    )  # fmt: skip
    return _run(emulator.app, settings, args)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="nexo-sandbox",
        description="Nexo's development tools: marketplace emulators, the demo (never production)",
    )
    commands = root.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="serve Nexo with every marketplace sandbox inside, a seeded catalog and buyers "
        "(`make run`)",
    )
    demo.add_argument("--host")
    demo.add_argument("--port", type=int)
    demo.add_argument(
        "--orders-per-minute", type=float, default=None,
        help="the simulated buyers' pace over all channels (default 30; 0: no traffic)",
    )  # fmt: skip
    shopify = commands.add_parser(
        "shopify", help="the Shopify Admin GraphQL API 2026-01 and its webhooks"
    )
    shopify.add_argument("--host", default="127.0.0.1")
    shopify.add_argument("--port", type=int, required=True)
    shopify.add_argument("--shop", default="nexo-demo", help="answers as SHOP.myshopify.com")
    shopify.add_argument("--access-token", default="shpat_sandbox")
    shopify.add_argument("--api-secret", default="sandbox-secret", help="signs the webhooks")
    shopify.add_argument("--webhook-url", help="where to POST webhooks (none sent without it)")
    shopify.add_argument(
        "--restore-rate", type=float, default=100.0, help="cost points restored a second"
    )
    shopify.add_argument(
        "--bucket-size", type=float, default=2000.0, help="cost points the bucket holds"
    )
    amazon = commands.add_parser(
        "amazon",
        help="the Selling Partner API (LWA, Listings Items, Feeds, Orders) and an SQS-shaped "
        "notification queue at /sqs",
    )
    amazon.add_argument("--host", default="127.0.0.1")
    amazon.add_argument("--port", type=int, required=True)
    amazon.add_argument("--seller-id", default="A2SANDBOXSELLER1")
    amazon.add_argument("--marketplace-id", default="ATVPDKIKX0DER")
    amazon.add_argument(
        "--apply-delay", type=float, default=1.0,
        help="seconds before an ACCEPTED listing change is applied",
    )  # fmt: skip
    amazon.add_argument(
        "--feed-rate", type=float, default=2000.0,
        help="feed messages processed a second (the sandbox's documented throughput)",
    )  # fmt: skip
    ebay = commands.add_parser(
        "ebay", help="eBay's Sell Inventory and Fulfillment APIs, OAuth and signed notifications"
    )
    ebay.add_argument("--host", default="127.0.0.1")
    ebay.add_argument("--port", type=int, required=True)
    ebay.add_argument("--client-id", default="nexo-sandbox-app")
    ebay.add_argument("--client-secret", default="sandbox-secret")
    ebay.add_argument("--refresh-token", default="v^1.1#sandbox-refresh")
    ebay.add_argument(
        "--verification-token", default="sandbox-verification-token-0123456789abcdef",
        help="answers the notification endpoint's challenge",
    )  # fmt: skip
    meli = commands.add_parser(
        "mercadolibre",
        help="MercadoLibre's items (classic or User Products), orders, packs, shipments, OAuth "
        "with single-use refresh tokens and pointer notifications",
    )
    meli.add_argument("--host", default="127.0.0.1")
    meli.add_argument("--port", type=int, required=True)
    meli.add_argument("--client-id", default="4242424242")
    meli.add_argument("--client-secret", default="sandbox-secret")
    meli.add_argument("--refresh-token", default="TG-sandbox-refresh", help="works once")
    meli.add_argument("--seller-id", type=int, default=123456789)
    meli.add_argument(
        "--user-products", action="store_true", help="the seller is on the User Products model"
    )
    meli.add_argument(
        "--calls-per-second", type=float, default=None,
        help="the application's rate limit (429 beyond it); none by default",
    )  # fmt: skip
    meli.add_argument(
        "--up-stock-calls-per-minute", type=int, default=100,
        help="the user products' stock resource's own limit (429 beyond it)",
    )  # fmt: skip
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        return _fail(str(error))
    if args.command == "demo":
        return _demo(settings, args)
    if args.command == "amazon":
        return _amazon(settings, args)
    if args.command == "ebay":
        return _ebay(settings, args)
    if args.command == "mercadolibre":
        return _mercadolibre(settings, args)
    return _shopify(settings, args)
