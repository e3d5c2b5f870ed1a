"""Amazon: the Selling Partner API."""
