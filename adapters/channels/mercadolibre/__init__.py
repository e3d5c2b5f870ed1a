"""MercadoLibre: the items and orders API."""
