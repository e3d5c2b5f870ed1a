"""The FBA Inventory API v1's getInventorySummaries, as a model the contract reads.

The official model (fbaInventory.json, amzn/selling-partner-api-models) is not among the
specs kept in `sandbox/specs`; this is its one operation the sandbox serves, written out in
the model's own Swagger 2.0 shape and names (GetInventorySummariesResponse and what it
refers to), its usage plan (2 requests a second, burst 2) in the operation's description as
the models state it. When the official file joins the specs, `contract.MODELS` names it and
this goes.
"""

from __future__ import annotations

from typing import Any, Final

_INT: Final = {"type": "integer"}
_STRING: Final = {"type": "string"}
_RESPONSE: Final = {"schema": {"$ref": "#/definitions/GetInventorySummariesResponse"}}

MODEL: Final[dict[str, Any]] = {
    "swagger": "2.0",
    "paths": {
        "/fba/inventory/v1/summaries": {
            "get": {
                "operationId": "getInventorySummaries",
                "description": "Returns a list of inventory summaries.\n\n**Usage Plan:**\n\n"
                "| Rate (requests per second) | Burst |\n| ---- | ---- |\n| 2 | 2 |\n",
                "parameters": [],
                "responses": {
                    status: _RESPONSE for status in ("200", "400", "403", "404", "429", "500")
                },
            }
        }
    },
    "definitions": {
        "Granularity": {
            "type": "object",
            "properties": {"granularityType": _STRING, "granularityId": _STRING},
        },
        "ReservedQuantity": {
            "type": "object",
            "properties": {
                name: _INT
                for name in (
                    "totalReservedQuantity",
                    "pendingCustomerOrderQuantity",
                    "pendingTransshipmentQuantity",
                    "fcProcessingQuantity",
                )
            },
        },
        "ResearchingQuantityEntry": {
            "type": "object",
            "required": ["name", "quantity"],
            "properties": {
                "name": {
                    "type": "string",
                    "enum": [
                        "researchingQuantityInShortTerm",
                        "researchingQuantityInMidTerm",
                        "researchingQuantityInLongTerm",
                    ],
                },
                "quantity": _INT,
            },
        },
        "ResearchingQuantity": {
            "type": "object",
            "properties": {
                "totalResearchingQuantity": _INT,
                "researchingQuantityBreakdown": {
                    "type": "array",
                    "items": {"$ref": "#/definitions/ResearchingQuantityEntry"},
                },
            },
        },
        "UnfulfillableQuantity": {
            "type": "object",
            "properties": {
                name: _INT
                for name in (
                    "totalUnfulfillableQuantity",
                    "customerDamagedQuantity",
                    "warehouseDamagedQuantity",
                    "distributorDamagedQuantity",
                    "carrierDamagedQuantity",
                    "defectiveQuantity",
                    "expiredQuantity",
                )
            },
        },
        "InventoryDetails": {
            "type": "object",
            "properties": {
                "fulfillableQuantity": _INT,
                "inboundWorkingQuantity": _INT,
                "inboundShippedQuantity": _INT,
                "inboundReceivingQuantity": _INT,
                "reservedQuantity": {"$ref": "#/definitions/ReservedQuantity"},
                "researchingQuantity": {"$ref": "#/definitions/ResearchingQuantity"},
                "unfulfillableQuantity": {"$ref": "#/definitions/UnfulfillableQuantity"},
            },
        },
        "InventorySummary": {
            "type": "object",
            "properties": {
                "asin": _STRING,
                "fnSku": _STRING,
                "sellerSku": _STRING,
                "condition": _STRING,
                "inventoryDetails": {"$ref": "#/definitions/InventoryDetails"},
                "lastUpdatedTime": {"type": "string", "format": "date-time"},
                "productName": _STRING,
                "totalQuantity": _INT,
            },
        },
        "InventorySummaries": {
            "type": "array",
            "items": {"$ref": "#/definitions/InventorySummary"},
        },
        "Pagination": {"type": "object", "properties": {"nextToken": _STRING}},
        "GetInventorySummariesResult": {
            "type": "object",
            "required": ["granularity", "inventorySummaries"],
            "properties": {
                "granularity": {"$ref": "#/definitions/Granularity"},
                "inventorySummaries": {"$ref": "#/definitions/InventorySummaries"},
            },
        },
        "GetInventorySummariesResponse": {
            "type": "object",
            "properties": {
                "payload": {"$ref": "#/definitions/GetInventorySummariesResult"},
                "pagination": {"$ref": "#/definitions/Pagination"},
                "errors": {"$ref": "#/definitions/ErrorList"},
            },
        },
        "Error": {
            "type": "object",
            "required": ["code"],
            "properties": {"code": _STRING, "message": _STRING, "details": _STRING},
        },
        "ErrorList": {"type": "array", "items": {"$ref": "#/definitions/Error"}},
    },
}
