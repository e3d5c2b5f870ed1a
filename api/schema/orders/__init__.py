"""Schema area: the order book — every channel's orders in one place, the web store's
checkout completion, shipping and cancelling, and live order events."""
