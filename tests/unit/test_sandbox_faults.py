"""The sandboxes' injected faults count the notifications they dropped and duplicated, for the
fault harness to report per marketplace."""

from __future__ import annotations

from sandbox.shopify.faults import Faults


def test_dropped_and_duplicated_notifications_are_counted_across_resets() -> None:
    faults = Faults(seed=1)
    faults.configure({"drop_webhooks": 2, "duplicate_webhooks": 1.0})

    assert [faults.drop() for _ in range(3)] == [True, True, False]
    assert [faults.duplicate() for _ in range(4)] == [True] * 4
    faults.configure({"reset": True})  # new settings: nothing hits any more
    assert not faults.drop()
    assert not faults.duplicate()

    snapshot = faults.snapshot()
    assert (snapshot["dropped"], snapshot["duplicated"]) == (2, 4)
    assert (snapshot["drop_webhooks"], snapshot["duplicate_webhooks"]) == (0, 0)
