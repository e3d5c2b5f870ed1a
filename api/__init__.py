"""Driving adapter: the Starlette app, the GraphQL schema, authentication and the `nexo` CLI."""
