"""A longer fuzz run: the suite's fuzz test (tests/e2e/test_fuzz.py) with more examples.

    python -m bench.fuzz --examples 200

Runs it under pytest (the same seeded server, strategies and checks), then prints one JSON
line and a table: examples run per operation, how far they got (refused by GraphQL or
the edge, a user error, done), and every finding (5xx or masked internal error) with its
query. Needs PostgreSQL (NEXO_TEST_DATABASE_URL, default the local test server).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.support import DEFAULT_DATABASE, ROOT, report

TEST = "tests/e2e/test_fuzz.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="examples per operation")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        path = Path(home) / "report.json"
        env = dict(os.environ)
        env.setdefault("NEXO_TEST_DATABASE_URL", DEFAULT_DATABASE)
        env.update(NEXO_FUZZ_EXAMPLES=str(args.examples), NEXO_FUZZ_REPORT=str(path))
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", TEST],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - started
        if not path.exists():
            print(run.stdout[-4000:], run.stderr[-4000:], file=sys.stderr)
            sys.exit(run.returncode or 1)
        found = json.loads(path.read_text())
    examples: dict[str, int] = found["examples"]
    findings = found["findings"]
    rows = [
        {"operation": op, "examples": n, "findings": sum(1 for f in findings if f[0] == op)}
        for op, n in sorted(examples.items())
    ]
    report(
        "fuzz",
        rows,
        {
            "examples_per_operation": args.examples,
            "operations": len(examples),
            "examples_run": sum(examples.values()),
            "outcomes": found["outcomes"],
            "findings": len(findings),
            "seconds": round(seconds, 1),
            "suite_passed": run.returncode == 0,
        },
    )
    for operation, what, query in findings:
        print(f"\n{operation}: {what}\n{query}")


if __name__ == "__main__":
    main()
