"""Shopify: the Admin GraphQL API."""
