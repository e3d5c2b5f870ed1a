"""How fast abusive requests are refused, against `nexo serve` (production mode) on PostgreSQL.

    python -m bench.abuse [--requests 200]

Each case sends requests one after another and times each answer (p50, p99 in ms), next to
a small query that runs, for scale. Every query text is new (a counter in an alias or a
name), as an attacker's would be: none is answered from the validation cache. Every answer
is checked to be the refusal expected (status and error), never an execution.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from api.schema.cost import MAX_ALIASES, MAX_DEPTH
from bench.support import fresh_database, issue_admin_key, percentile, report, server

JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Case:
    name: str
    body: Callable[[int], bytes]
    status: int
    refused_by: str  # a piece of the error message (or code) the answer must carry


def _query(text: str) -> bytes:
    return json.dumps({"query": text}).encode()


def _aliases(count: int, field: str) -> Callable[[int], bytes]:
    return lambda n: _query("{ " + " ".join(f"a{n}_{i}: {field}" for i in range(count)) + " }")


def _deep(n: int) -> bytes:
    nested = "name"
    for level in range(MAX_DEPTH + 1):
        nested = f"f{n}_{level} {{ {nested} }}"
    return _query(f"{{ ...F }} fragment F on Query {{ {nested} }}")


def _costly_pages(n: int) -> bytes:
    node = "id title variants { sku price { amount } }"
    page = f"products(first: 100) {{ edges {{ node {{ {node} }} }} }}"
    return _query("{ " + " ".join(f"p{n}_{i}: {page}" for i in range(20)) + " }")


def _tokens(n: int) -> bytes:
    return _query(f"{{ viewer {{ name{n} " + "name " * 5000 + "} }")


def _big_body(n: int) -> bytes:
    return json.dumps(
        {"query": "{ viewer { name } }", "variables": {"x": "x" * 10_000_000, "n": n}}
    ).encode()


AUDIT = "inventoryAudit { checkedLevels }"
CASES = [
    Case("baseline: viewer (runs)", lambda n: _query(f"{{ v{n}: viewer {{ name }} }}"), 200, ""),
    Case(
        f"aliases: {MAX_ALIASES + 1} of viewer",
        _aliases(MAX_ALIASES + 1, "viewer { name }"),
        200,
        "aliases found",
    ),
    # The issue's two; 1,000 is past the token limit before its aliases are counted.
    Case("aliases: 1,000 of viewer", _aliases(1000, "viewer { name }"), 200, "4000 tokens"),
    Case("aliases: 600 of inventoryAudit", _aliases(600, AUDIT), 200, "aliases found"),
    Case("cost: 3 inventoryAudit", _aliases(3, AUDIT), 200, "QUERY_TOO_COSTLY"),
    Case("cost: 20 pages of 100 products", _costly_pages, 200, "QUERY_TOO_COSTLY"),
    Case(f"depth: {MAX_DEPTH + 1} through a fragment", _deep, 200, "maximum operation depth"),
    Case("tokens: 5,000 in one query", _tokens, 200, "4000 tokens"),
    Case(
        "suggestions: a misspelt field (prod)",
        lambda n: _query(f"{{ viewr{n} {{ name }} }}"),
        200,
        "Cannot query field",
    ),
    Case("size: a 10 MB body", _big_body, 413, "PAYLOAD_TOO_LARGE"),
]


async def _time_case(http: httpx.AsyncClient, case: Case, requests: int) -> dict[str, object]:
    count = max(5, requests // 20) if case.name.startswith("size") else requests
    took: list[float] = []
    for n in range(count):
        content = case.body(n)
        started = time.perf_counter()
        response = await http.post(
            "/graphql", content=content, headers={"Content-Type": "application/json"}
        )
        took.append((time.perf_counter() - started) * 1000)
        text = response.text
        assert response.status_code == case.status, (case.name, response.status_code, text[:300])
        assert case.refused_by in text, (case.name, text[:300])
        assert "Did you mean" not in text, (case.name, text[:300])
        if case.refused_by:
            assert '"data":null' in text.replace(" ", "") or response.status_code == 413, text[:300]
    return {
        "case": case.name,
        "requests": count,
        "request_kb": round(len(case.body(0)) / 1024, 1),
        "p50_ms": round(percentile(took, 50), 2),
        "p99_ms": round(percentile(took, 99), 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per case")
    args = parser.parse_args()
    async with fresh_database() as url:
        key = await issue_admin_key(url)
        with server(url, None) as base:
            headers = {"Authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
                rows = [await _time_case(http, case, args.requests) for case in CASES]
    report("abuse", rows, {"server": "nexo serve, prod, 1 worker, PostgreSQL"})


if __name__ == "__main__":
    asyncio.run(main())
