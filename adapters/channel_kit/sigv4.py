"""AWS Signature Version 4 (header form) for the few AWS calls a channel makes (SQS).

No AWS library is installed (botocore would be the usual choice), so the algorithm is here,
small, and pinned by AWS's published SigV4 test suite (get-vanilla, post-vanilla,
get-vanilla-query-order-key-case, post-x-www-form-urlencoded: tests/unit/adapters/
test_sigv4.py). `signature` is also what a sandbox checks a request with.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from urllib.parse import parse_qsl, quote, urlsplit

ALGORITHM: Final = "AWS4-HMAC-SHA256"


@dataclass(frozen=True, slots=True)
class AwsCredentials:
    access_key_id: str
    secret_access_key: str
    region: str
    service: str
    session_token: str | None = None


def sign(
    credentials: AwsCredentials,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> dict[str, str]:
    """The headers to send: `headers` with host, X-Amz-Date, the session token (when there
    is one) and the Authorization that signs them all and the body. `now` is UTC."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    signed = {name.lower(): value for name, value in headers.items()}
    signed["host"] = urlsplit(url).netloc
    signed["x-amz-date"] = stamp
    if credentials.session_token:
        signed["x-amz-security-token"] = credentials.session_token
    names = ";".join(sorted(signed))
    scope = f"{stamp[:8]}/{credentials.region}/{credentials.service}/aws4_request"
    found = signature(credentials.secret_access_key, scope, stamp, method, url, signed, body)
    signed["authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={names}, Signature={found}"
    )
    return signed


def signature(
    secret: str,
    scope: str,
    stamp: str,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
) -> str:
    """The hex signature of a request over `headers` (lower-case names: all of them are
    signed) for the credential scope `date/region/service/aws4_request`."""
    request = canonical_request(method, url, headers, body)
    to_sign = "\n".join([ALGORITHM, stamp, scope, _sha256(request.encode())])
    key = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def canonical_request(method: str, url: str, headers: Mapping[str, str], body: bytes) -> str:
    parts = urlsplit(url)
    path = quote(parts.path or "/", safe="/-_.~")
    query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(parse_qsl(parts.query, keep_blank_values=True))
    )
    names = sorted(headers)
    lines = "".join(f"{n}:{' '.join(str(headers[n]).split())}\n" for n in names)
    return "\n".join([method.upper(), path, query, lines, ";".join(names), _sha256(body)])


def parse_authorization(value: str) -> tuple[str, str, list[str], str] | None:
    """(access key id, scope, signed header names, signature) of an Authorization header."""
    if not value.startswith(ALGORITHM + " "):
        return None
    fields: dict[str, str] = {}
    for item in value[len(ALGORITHM) + 1 :].split(","):
        name, _, found = item.strip().partition("=")
        fields[name] = found
    credential = fields.get("Credential", "")
    key_id, _, scope = credential.partition("/")
    if not key_id or scope.count("/") != 3 or "SignedHeaders" not in fields:
        return None
    return key_id, scope, fields["SignedHeaders"].split(";"), fields.get("Signature", "")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
