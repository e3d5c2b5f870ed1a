"""Catalog: products, variants, and how they are shaped for each channel."""
