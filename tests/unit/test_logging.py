"""One log record, two renderings: a JSON object for machines, a readable line for a person."""

from __future__ import annotations

import json
import logging

from adapters.logging import JsonFormatter, TextFormatter


def _record() -> logging.LogRecord:
    record = logging.makeLogRecord(
        {"name": "domain.inventory.stock", "levelno": logging.INFO, "levelname": "INFO",
         "msg": "stock.received", "created": 1_800_000_000.25}
    )  # fmt: skip
    record.sku = "TEE-M"
    record.note = "back room shelf"
    return record


def test_a_text_line_names_the_event_its_fields_and_where_it_came_from() -> None:
    line = TextFormatter().format(_record())

    assert line == (
        '08:00:00.250 INFO  stock.received  sku=TEE-M note="back room shelf"  '
        "(domain.inventory.stock)"
    )


def test_the_json_line_carries_the_same_fields() -> None:
    entry = json.loads(JsonFormatter().format(_record()))

    assert (entry["event"], entry["sku"], entry["note"]) == ("stock.received", "TEE-M",
                                                              "back room shelf")  # fmt: skip
    assert entry["level"] == "info"
