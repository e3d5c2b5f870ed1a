"""The API under a fuzzer, as admin, on PostgreSQL: schemathesis (GraphQL mode) generates
every query's and every mutation's arguments from the schema (a fixed seed: derandomized,
`EXAMPLES` per operation) against a real `nexo serve`.

No response may be a 5xx or carry the masked internal error ("Unexpected error."): bad
input is a typed error. Findings are gathered over the whole run and reported together by
the test after it, with the query that caused each; then the ledger audit must be clean.
Longer runs: `python -m bench.fuzz --examples N`.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.e2e.fuzzing import (
    Target,
    audit_is_clean,
    findings_of,
    fuzz_target,
    outcome_of,
    register_scalars,
)

# The bench sets it for longer runs; the suite runs the default.
EXAMPLES = int(os.environ.get("NEXO_FUZZ_EXAMPLES", "10"))
EXAMPLES_RUN: Counter[str] = Counter()
OUTCOMES: Counter[str] = Counter()
FINDINGS: list[tuple[str, str, str]] = []

register_scalars()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with fuzz_target(tmp_path_factory.mktemp("fuzz")) as made:
        yield made


def _fuzz(operation: Any, target: Target) -> None:
    """Run `EXAMPLES` generated cases of one operation, recording what they find."""

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(headers=target.headers, timeout=30)
        EXAMPLES_RUN[operation.label] += 1
        try:
            body = response.json()
        except ValueError:
            body = None
        OUTCOMES[outcome_of(body)] += 1
        for finding in findings_of(response.status_code, body):
            FINDINGS.append((operation.label, finding, case.body.get("query", "")))

    run()


def test_fuzz_every_query_and_mutation(target: Target) -> None:
    api = schemathesis.graphql.from_url(target.url, headers=target.headers)
    for result in api.get_all_operations():
        _fuzz(result.ok(), target)
    assert len(EXAMPLES_RUN) > 60, EXAMPLES_RUN  # every query and mutation ran


def test_fuzz_found_nothing(target: Target) -> None:
    report = os.environ.get("NEXO_FUZZ_REPORT")
    if report:
        Path(report).write_text(
            json.dumps(
                {"examples": EXAMPLES_RUN, "outcomes": OUTCOMES, "findings": FINDINGS}, indent=1
            ),
            encoding="utf-8",
        )
    assert FINDINGS == [], "\n\n".join(f"{op}: {what}\n{query}" for op, what, query in FINDINGS)


def test_the_ledger_is_clean_after_the_fuzz(target: Target) -> None:
    audit = audit_is_clean(target)
    assert audit["checkedLevels"] > 0
    assert (audit["mismatches"], audit["totalMismatches"]) == ([], [])
