"""`schema.graphql` is the schema the code builds: partners generate clients from it and
reviewers see every change to the API in it."""

from __future__ import annotations

from pathlib import Path

from api.schema.sdl import printed

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_file_is_the_schema_the_code_builds() -> None:
    written = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
    assert written == printed(), (
        "schema.graphql differs from the schema the code builds: regenerate it with "
        "`make schema` (or `.venv/bin/nexo schema > schema.graphql`) and commit it"
    )
