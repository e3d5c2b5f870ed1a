"""Nexo's core: entities, value objects, domain services and the ports they need.

Pure Python: nothing here imports a database driver, a web framework or a queue.
"""
