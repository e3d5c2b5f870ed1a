"""The run's figures: one JSON line and a table (as the other benches print), then every
violation with the minimal history that shows it (the first few of each rule)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from bench.faults.checker import Violation, by_rule, held_back
from bench.faults.model import EndState, Record
from bench.support import percentile, report

SHOWN_PER_RULE = 3


def _phase(history: list[Record], name: str) -> float | None:
    return next(
        (float(r["t"]) for r in history if r.get("type") == "phase" and r["name"] == name), None
    )


def operation_name(record: Record) -> str:
    """The operation's kind; a marketplace order's names its marketplace (the shop's alone
    keeps the plain name it had before the others joined)."""
    channel = record.get("channel")
    return record["kind"] if channel in (None, "shopify") else f"{record['kind']}@{channel}"


def operation_rows(history: list[Record]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    times: dict[str, list[float]] = {}
    for r in history:
        if r.get("type") != "op":
            continue
        name = operation_name(r)
        row = rows.setdefault(name, {"operation": name, "accepted": 0, "refused": 0, "unknown": 0})
        row[r["outcome"]] += 1
        times.setdefault(name, []).append(float(r["t1"]) - float(r["t0"]))
    for kind, row in rows.items():
        row["p50_ms"] = percentile(times[kind], 50) * 1000
        row["p99_ms"] = percentile(times[kind], 99) * 1000
    return sorted(rows.values(), key=lambda row: str(row["operation"]))


def fault_counts(
    history: list[Record],
    webhook_log: list[dict[str, Any]],
    notifications: dict[str, dict[str, int]] | None = None,
) -> dict[str, int]:
    """Each kind of fault injected; the shop's webhooks dropped and duplicated (its log),
    and every other marketplace's notifications (`webhook_dropped@ebay`, as the operations
    name theirs)."""
    counts: Counter[str] = Counter(r["kind"] for r in history if r.get("type") == "fault")
    outcomes = Counter(entry.get("outcome") for entry in webhook_log)
    counts["webhook_dropped"] = outcomes["dropped"]
    counts["webhook_duplicated"] = outcomes["duplicate"]
    for kind, done in (notifications or {}).items():
        counts[f"webhook_dropped@{kind}"] = done["dropped"]
        counts[f"webhook_duplicated@{kind}"] = done["duplicated"]
    return dict(sorted(counts.items()))


def figures(
    history: list[Record],
    violations: list[Violation],
    *,
    webhook_log: list[dict[str, Any]],
    notifications: dict[str, dict[str, int]] | None = None,
    propagation_p95_ms: float,
    outbox_max_age: float,
    seed: int,
    history_path: Path,
    end: EndState | None = None,
    outbox_oldest: str = "",
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows = operation_rows(history)
    started, ended = _phase(history, "load_start") or 0.0, _phase(history, "load_end") or 0.0
    taken = sum(
        r["accepted"]
        for r in rows
        if r["operation"] == "place_order" or r["operation"].startswith("shop_order")
    )
    counted = by_rule(violations)
    exits = Counter(r["process"] for r in history if r.get("type") == "exit")
    return rows, {
        "seconds": round(ended - started, 1),
        "seed": seed,
        "operations": {r["operation"]: r["accepted"] + r["refused"] + r["unknown"] for r in rows},
        "faults": fault_counts(history, webhook_log, notifications),
        "violations": counted,
        "violations_total": sum(counted.values()),
        "p95_propagation_ms": propagation_p95_ms,
        "outbox_max_age_s": round(outbox_max_age, 2),
        "outbox_oldest": outbox_oldest,
        "orders_per_s": taken / (ended - started) if ended > started else 0.0,
        "unexpected_exits": dict(exits),
        # SKUs a channel's own cap (eBay's revisions) still held back when the run ended.
        "held_by_cap": held_back(history, end) if end is not None else {},
        "history": str(history_path),
    }


def print_all(
    rows: list[dict[str, Any]], extra: dict[str, Any], violations: list[Violation]
) -> None:
    report("faults", rows, extra)
    shown: Counter[str] = Counter()
    for violation in violations:
        shown[violation.rule] += 1
        if shown[violation.rule] <= SHOWN_PER_RULE:
            print("\n" + violation.render())
    for rule, count in shown.items():
        if count > SHOWN_PER_RULE:
            print(f"\n[{rule}] ... and {count - SHOWN_PER_RULE} more (see violations.txt)")
