"""Inventory: locations, stock levels, the movement ledger, reservations, and the quantities
channels are told."""
