"""Group commits: calls of one process that arrive together, served by one transaction.

A desk gathers concurrent calls (`batching.Batcher`) and hands them to a domain operation
that serves many at once; each call gets what that operation would give it alone. The
desks (reservations, checkout, webhook reception, inbox intake) and their asyncio state are
the process's, not the domain's: the rules live in the domain's operations.
"""
