"""`nexo-sandbox shopify` as a real process: it serves the Admin API on the port it is given."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import SANDBOX, START_TIMEOUT, STOP_TIMEOUT, free_port, nexo_env

GRAPHQL = "/admin/api/2026-01/graphql.json"
TOKEN = {"X-Shopify-Access-Token": "shpat_sandbox"}


@pytest.fixture
def sandbox_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = tmp_path / "sandbox.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*SANDBOX, "shopify", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=nexo_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(process, url, log)
        yield url
        assert process.poll() is None, log.read_text()
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
            pytest.fail(f"the sandbox ignored SIGTERM:\n{log.read_text()}")


def _wait_until_answering(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_sandbox/state", timeout=1)
            return
        except httpx.TransportError:
            pass
        try:
            code = process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"the sandbox exited with {code} before answering:\n{log.read_text()}")
    pytest.fail(f"the sandbox did not answer within {START_TIMEOUT}s:\n{log.read_text()}")


def test_the_sandbox_process_answers_the_admin_api(sandbox_url: str) -> None:
    query = {"query": "{ shop { myshopifyDomain } locations(first: 5) { nodes { id name } } }"}
    with httpx.Client(base_url=sandbox_url, timeout=10) as http:
        refused = http.post(GRAPHQL, json=query)
        answered = http.post(GRAPHQL, json=query, headers=TOKEN)

    assert refused.status_code == 401
    assert answered.status_code == 200
    body = answered.json()
    assert body["data"] == {
        "shop": {"myshopifyDomain": "nexo-demo.myshopify.com"},
        "locations": {"nodes": [{"id": "gid://shopify/Location/1", "name": "Shop location"}]},
    }
    assert body["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 2000.0
