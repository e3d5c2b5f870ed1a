"""A JSON Schema compiled once, asked for its first error.

The sandbox checks every body it takes and gives, and every message of a feed as it is
processed: 20,000 messages a feed, at the 2,000 a second it documents. The pure-Python
`jsonschema` takes about half a millisecond a message here, more than the throughput leaves;
`jsonschema_rs` (the same drafts, compiled in Rust) takes a hundredth of that, so it is used
where it is installed (it comes with the development tools), and `jsonschema` elsewhere. Both
leave `format` unchecked, as the models do not ask for it.
"""

from __future__ import annotations

from typing import Any

import jsonschema

try:
    import jsonschema_rs as _rust
except ImportError:  # pragma: no cover - the development tools bring it
    _rust = None  # type: ignore[assignment]


class Schema:
    def __init__(self, schema: dict[str, Any], draft: int):
        self._fast: Any = None
        self._slow: Any = None
        if _rust is not None:
            kind = _rust.Draft4Validator if draft == 4 else _rust.Draft7Validator
            self._fast = kind(schema, validate_formats=False)
        else:
            kind = jsonschema.Draft4Validator if draft == 4 else jsonschema.Draft7Validator
            self._slow = kind(schema)

    def first_error(self, document: Any) -> tuple[str, str] | None:
        """(where, what) of the document's first error, or None when it validates."""
        if self._fast is not None:
            for error in self._fast.iter_errors(document):
                return "/".join(str(p) for p in error.instance_path), str(error.message)
            return None
        found = next(iter(self._slow.iter_errors(document)), None)
        if found is None:
            return None
        return "/".join(str(p) for p in found.absolute_path), str(found.message)
