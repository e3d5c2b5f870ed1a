"""AWS Signature V4 against AWS's published test suite (credentials AKIDEXAMPLE, 2015-08-30).

Expected values are those of the suite's .creq/.sts/.authz files for each named case.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.channel_kit.sigv4 import (
    AwsCredentials,
    canonical_request,
    parse_authorization,
    sign,
    signature,
)

SUITE = AwsCredentials(
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service"
)
AT = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
SCOPE = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def authz(signed: str, found: str) -> str:
    return f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders={signed}, Signature={found}"


@pytest.mark.parametrize(
    ("name", "method", "url", "headers", "body", "expected"),
    [
        ("get-vanilla", "GET", "https://example.amazonaws.com/", {}, b"",
         authz("host;x-amz-date",
               "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")),
        ("get-vanilla-query-order-key-case", "GET",
         "https://example.amazonaws.com/?Param2=value2&Param1=value1", {}, b"",
         authz("host;x-amz-date",
               "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")),
        ("post-vanilla", "POST", "https://example.amazonaws.com/", {}, b"",
         authz("host;x-amz-date",
               "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")),
        ("post-x-www-form-urlencoded", "POST", "https://example.amazonaws.com/",
         {"Content-Type": "application/x-www-form-urlencoded"}, b"Param1=value1",
         authz("content-type;host;x-amz-date",
               "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")),
    ],
)  # fmt: skip
def test_the_published_suite_signs_as_aws_does(
    name: str, method: str, url: str, headers: dict[str, str], body: bytes, expected: str
) -> None:
    signed = sign(SUITE, method, url, headers, body, AT)
    assert signed["authorization"] == expected, name
    assert signed["x-amz-date"] == "20150830T123600Z"


def test_the_canonical_request_of_a_form_post_is_the_suites() -> None:
    headers = {"content-type": "application/x-www-form-urlencoded",
               "host": "example.amazonaws.com", "x-amz-date": "20150830T123600Z"}  # fmt: skip
    assert canonical_request(
        "POST", "https://example.amazonaws.com/", headers, b"Param1=value1"
    ) == (
        "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
        "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
    )
    vanilla = {"host": "example.amazonaws.com", "x-amz-date": "20150830T123600Z"}
    assert canonical_request("GET", "https://example.amazonaws.com/", vanilla, b"").endswith(
        f"\n\nhost;x-amz-date\n{EMPTY}"
    )


def test_a_session_token_is_sent_and_signed() -> None:
    temporary = AwsCredentials(SUITE.access_key_id, SUITE.secret_access_key, "us-east-1",
                               "service", session_token="FQoGZXIvYXdzEXAMPLE")  # fmt: skip
    signed = sign(temporary, "POST", "https://example.amazonaws.com/", {}, b"", AT)
    assert signed["x-amz-security-token"] == "FQoGZXIvYXdzEXAMPLE"
    key_id, scope, names, found = parse_authorization(signed["authorization"]) or ("", "", [], "")
    assert names == ["host", "x-amz-date", "x-amz-security-token"]
    # The token is under the signature: another token does not verify.
    headers = {n: signed[n] for n in names}
    again = signature(SUITE.secret_access_key, scope, signed["x-amz-date"], "POST",
                      "https://example.amazonaws.com/", headers, b"")  # fmt: skip
    assert again == found
    headers["x-amz-security-token"] = "another"
    forged = signature(SUITE.secret_access_key, scope, signed["x-amz-date"], "POST",
                       "https://example.amazonaws.com/", headers, b"")  # fmt: skip
    assert forged != found
    assert key_id == "AKIDEXAMPLE"
