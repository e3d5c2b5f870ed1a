"""Local, faithful emulators of the marketplaces' HTTP APIs (see the shared channel contracts).

Used by tests, the demo and benchmarks; never by production code paths (an import-linter
contract: domain, api, adapters and workers never import `sandbox`). `nexo-sandbox`
(sandbox/cli.py) runs an emulator on its own, or the demo: Nexo with a sandbox inside.
"""

# The ASGI scope key under which a host serving a sandbox under a path prefix (the demo)
# keeps the path as the client sent it: what a request signature covers.
SENT_PATH = "sandbox.sent_path"
