"""The schema as SDL: what `schema.graphql` at the repository's root holds, for partners'
client generators and for review (a test fails when the file and the code differ)."""

from __future__ import annotations

import sys


def printed() -> str:
    from api.schema import build_schema

    return build_schema().as_str() + "\n"


if __name__ == "__main__":
    sys.stdout.write(printed())
