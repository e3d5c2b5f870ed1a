"""eBay: the Sell APIs."""
