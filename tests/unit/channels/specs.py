"""The marketplaces' official specs, loaded once, as validators for request bodies."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import jsonschema
from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    build_schema,
    get_variable_values,
    parse,
    validate,
)
from graphql.language import OperationDefinitionNode

from sandbox import specs

# The official specs, kept (gzipped) in the repository: see sandbox/specs.
SHOPIFY_SDL = "admin-graphql-2026-01.graphql"
AMAZON_LISTINGS = "listingsItems_2021-08-01.json"
AMAZON_ORDERS = "orders_2026-01-01.json"
EBAY_INVENTORY = "sell_inventory_v1_oas3.json"


@cache
def shopify_schema() -> GraphQLSchema:
    # Taken as valid: graphql-core 3.3 refuses deprecated fields implementing undeprecated
    # interface fields (Node.id...), which Shopify's own schema has; 3.2 builds it as is.
    return build_schema(specs.read(SHOPIFY_SDL), assume_valid=True)


def shopify_errors(query: str, variables: dict[str, Any]) -> list[str]:
    """What the Admin schema refuses in the document or its variables, deprecations included."""
    schema = shopify_schema()
    document = parse(query)
    errors = [error.message for error in validate(schema, document)]
    if errors:
        return errors
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    definitions = operation.variable_definitions or ()
    coerced = get_variable_values(schema, definitions, variables)
    if isinstance(coerced, list):
        return [error.message for error in coerced]
    for definition in definitions:
        name = definition.variable.name.value
        input_type = schema.get_type(_named(definition.type))
        assert isinstance(input_type, GraphQLInputObjectType)
        errors += _deprecated_fields(input_type, variables.get(name), f"${name}")
    return errors


def _named(type_node: Any) -> str:
    while not hasattr(type_node, "name"):
        type_node = type_node.type
    return str(type_node.name.value)


def _deprecated_fields(input_type: GraphQLInputType, value: Any, path: str) -> list[str]:
    """Input fields the variables use that the schema marks deprecated."""
    while isinstance(input_type, GraphQLNonNull):
        input_type = input_type.of_type
    if isinstance(input_type, GraphQLList) and isinstance(value, list):
        return [
            error
            for i, item in enumerate(value)
            for error in _deprecated_fields(input_type.of_type, item, f"{path}[{i}]")
        ]
    if not isinstance(input_type, GraphQLInputObjectType) or not isinstance(value, dict):
        return []
    errors = []
    for key, item in value.items():
        field = input_type.fields[key]
        if field.deprecation_reason:
            errors.append(f"{path}.{key} is deprecated: {field.deprecation_reason}")
        errors += _deprecated_fields(field.type, item, f"{path}.{key}")
    return errors


@cache
def _closed(spec_path: str, section: str) -> dict[str, Any]:
    """The spec's schemas with every object closed to fields it does not declare.

    The specs leave objects open, which would let a misspelt field through; closing them
    makes the validation catch it. eBay's `aspects` is declared a string although eBay takes
    (and documents, with an example) an object of name -> list of values: it is fixed here.
    """
    spec = json.loads(specs.read(spec_path))
    found = spec[section] if section == "definitions" else spec[section]["schemas"]
    schemas: dict[str, Any] = copy.deepcopy(found)
    for schema in _walk(schemas):
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    aspects = {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    }
    for name in ("Product", "InventoryItemGroup"):
        if name in schemas and "aspects" in schemas[name].get("properties", {}):
            schemas[name]["properties"]["aspects"] = aspects
    return schemas


def _walk(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


def amazon_errors(definition: str, body: Any) -> list[str]:
    """What the Listings Items 2021-08-01 definition refuses in `body`."""
    schema = {
        "$ref": f"#/definitions/{definition}",
        "definitions": _closed(AMAZON_LISTINGS, "definitions"),
    }
    return _errors(schema, body)


def amazon_orders_errors(definition: str, body: Any) -> list[str]:
    """What the Orders 2026-01-01 definition refuses in `body`."""
    schema = {
        "$ref": f"#/definitions/{definition}",
        "definitions": _closed(AMAZON_ORDERS, "definitions"),
    }
    return _errors(schema, body)


def ebay_errors(component: str, body: Any) -> list[str]:
    """What the Sell Inventory v1 component schema refuses in `body`."""
    schema = {
        "$ref": f"#/components/schemas/{component}",
        "components": {"schemas": _closed(EBAY_INVENTORY, "components")},
    }
    return _errors(schema, body)


def _errors(schema: dict[str, Any], body: Any) -> list[str]:
    validator = jsonschema.Draft4Validator(schema)
    return [
        f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(body)
    ]


@cache
def ebay_operation_schema(method: str, path: str) -> str:
    """The component schema eBay's spec names for the body of `method path` (path as in spec)."""
    spec = json.loads(specs.read(EBAY_INVENTORY))
    content = spec["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]
    return str(content["schema"]["$ref"]).rsplit("/", 1)[-1]
