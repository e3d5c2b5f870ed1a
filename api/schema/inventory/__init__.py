"""Schema area: locations, stock levels, the ledger, reservations, alerts and audit."""
