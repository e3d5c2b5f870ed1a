"""Inventory: locations, stock levels, the movement ledger, reservations, channel availability."""
