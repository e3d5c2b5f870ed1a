"""Sales channels: one package per kind, each exposing its descriptor `CHANNEL` (what it
provides: adapters/channel_kit/descriptor.py)."""
