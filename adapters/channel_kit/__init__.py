"""How channel packages plug in: the descriptor each provides, the registry the composition
root builds from them, the connector that builds their ports, and helpers they share.

Kept beside `adapters/channels/` rather than in it, so that every package there is one
channel and the channels stay independent of each other (an import-linter contract)."""
