"""Sales channels: the channel, its kind, configuration and policies, the port every
marketplace implements, and marking what a channel must hear (the outbox).

The lowest layer of the domain: inventory, catalog, orders and sync build on it; it
imports none of them.
"""
