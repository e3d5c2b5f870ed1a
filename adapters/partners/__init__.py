"""Driven adapters of the partner hand-off: signed webhooks to dropship and 3PL partners."""
