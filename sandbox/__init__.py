"""Local, faithful emulators of the marketplaces' HTTP APIs (see the shared channel contracts).

Used by tests, the demo and benchmarks; never by production code paths. The channel
adapters and their sandboxes arrive with the sync engine.
"""
