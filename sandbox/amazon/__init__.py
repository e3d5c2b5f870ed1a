"""A local Amazon seller account speaking the Selling Partner API (see `app`)."""

from sandbox.amazon.app import AmazonSandbox

__all__ = ["AmazonSandbox"]
