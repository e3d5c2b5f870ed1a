"""Nexo's own webstore."""
