"""The Admin GraphQL 2026-01 documents the Shopify adapter sends (productSet is in `mapping`).

Each document comes with its estimated cost: what Shopify's calculated query cost charges
up front (connections `2 + first * node`, objects 1, mutations 10), which is what the
bucket must hold before the call. Page sizes are chosen to keep every document under
Shopify's 1,000-point ceiling for a single query.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final


def product_set_cost(product: Mapping[str, Any]) -> int:
    """productSet (mapping.PRODUCT_SET) for this ProductSetInput: the mutation's 10, its
    variants(first: 250) { id sku inventoryItem { id } } and the input complexity the SDL
    documents (0.2 a variant, 1.9 a file, 0.4 a metafield, 0.6 a variant file)."""
    variants = product.get("variants") or ()
    complexity = (
        0.2 * len(variants)
        + 1.9 * len(product.get("files") or ())
        + 0.4 * len(product.get("metafields") or ())
        + sum(0.6 * bool(v.get("file")) + 0.4 * len(v.get("metafields") or ()) for v in variants)
    )
    return 10 + 2 + 250 * 2 + math.ceil(complexity)


VARIANTS_PER_PAGE: Final = 250
LISTING_VARIANTS: Final = """\
query ListingVariants($id: ID!, $after: String) {
  product(id: $id) {
    variants(first: 250, after: $after) {
      nodes {
        id
        sku
        inventoryItem {
          id
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
}
"""
LISTING_VARIANTS_COST: Final = 505

# productChangeStatus is deprecated in 2026-01: productUpdate(product: {id, status}) instead.
LISTING_END: Final = """\
mutation ListingEnd($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    product {
      id
      status
    }
    userErrors {
      field
      message
    }
  }
}
"""
LISTING_END_COST: Final = 11

# At most 250 quantities per call (Shopify's input array limit).
QUANTITIES_PER_CALL: Final = 250
QUANTITIES_SET: Final = """\
mutation QuantitiesSet($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup {
      id
    }
    userErrors {
      field
      message
      code
    }
  }
}
"""
QUANTITIES_SET_COST: Final = 11

PRICES_PER_CALL: Final = 250
# allowPartialUpdates: one bad variant must not hold back the price of the others.
PRICES_UPDATE: Final = """\
mutation PricesUpdate($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: true) {
    productVariants {
      id
      price
      compareAtPrice
    }
    userErrors {
      field
      message
      code
    }
  }
}
"""
PRICES_UPDATE_COST: Final = 11

# Four objects per variant (variant, item, level, quantities): 100 ids cost about 400.
LEVELS_PER_CALL: Final = 100
LEVELS_READ: Final = """\
query LevelsRead($ids: [ID!]!, $locationId: ID!) {
  shop {
    currencyCode
  }
  nodes(ids: $ids) {
    ... on ProductVariant {
      id
      sku
      price
      inventoryItem {
        id
        inventoryLevel(locationId: $locationId) {
          quantities(names: ["available"]) {
            name
            quantity
          }
        }
      }
    }
  }
}
"""


def levels_read_cost(ids: int) -> int:
    return 2 + 4 * ids


_ORDER_LINE: Final = """\
fragment OrderLine on LineItem {
  id
  sku
  quantity
  originalUnitPriceSet {
    shopMoney {
      amount
      currencyCode
    }
  }
}
"""

# 10 orders * (order 1 + customer 1 + shipping address 1 + lines 2 + 20 * 3) ≈ 650 points.
ORDERS_PER_PAGE: Final = 10
ORDERS_SINCE: Final = (
    """\
query OrdersSince($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
    nodes {
      id
      name
      email
      phone
      createdAt
      processedAt
      updatedAt
      cancelledAt
      displayFinancialStatus
      displayFulfillmentStatus
      customer {
        id
      }
      shippingAddress {
        address1
        address2
        city
        provinceCode
        zip
        countryCodeV2
      }
      lineItems(first: 20) {
        nodes {
          ...OrderLine
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
"""
    + _ORDER_LINE
)
ORDERS_SINCE_COST: Final = 2 + ORDERS_PER_PAGE * (1 + 1 + 1 + 2 + 20 * 3)

# The lines of an order beyond the first 20.
ORDER_LINES: Final = (
    """\
query OrderLines($id: ID!, $after: String) {
  order(id: $id) {
    lineItems(first: 100, after: $after) {
      nodes {
        ...OrderLine
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
}
"""
    + _ORDER_LINE
)
ORDER_LINES_COST: Final = 1 + 2 + 100 * 3

# What is left to ship of an order, by fulfilment order: fulfillmentCreate takes
# fulfilment order line items, not the order's line items. And what it shipped already, by
# tracking number: a fulfilment whose answer was lost is found there, not created twice.
SHIPMENT_LINES: Final = """\
query ShipmentLines($id: ID!) {
  order(id: $id) {
    id
    fulfillments(first: 50) {
      id
      status
      trackingInfo(first: 5) {
        number
      }
    }
    fulfillmentOrders(first: 5) {
      nodes {
        id
        status
        lineItems(first: 50) {
          nodes {
            id
            remainingQuantity
            lineItem {
              id
            }
          }
        }
      }
    }
  }
}
"""
SHIPMENT_LINES_COST: Final = 1 + 2 + 50 * 2 + 5 * (1 + 2 + 50 * 2)

SHIPMENT_CREATE: Final = """\
mutation ShipmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment {
      id
      status
    }
    userErrors {
      field
      message
    }
  }
}
"""
SHIPMENT_CREATE_COST: Final = 11

# Cancelling lines is an order edit: begin (the calculated order and its line items, whose
# ids carry the numbers of the order's line items), set each line's quantity, commit.
EDITABLE_LINES: Final = 250
ORDER_EDIT_BEGIN: Final = """\
mutation OrderEditBegin($id: ID!) {
  orderEditBegin(id: $id) {
    calculatedOrder {
      id
      lineItems(first: 250) {
        nodes {
          id
          quantity
          editableQuantity
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
    userErrors {
      field
      message
    }
  }
}
"""
ORDER_EDIT_BEGIN_COST: Final = 10 + 1 + 2 + EDITABLE_LINES

ORDER_EDIT_SET_QUANTITY: Final = """\
mutation OrderEditSetQuantity($id: ID!, $lineItemId: ID!, $quantity: Int!, $restock: Boolean) {
  orderEditSetQuantity(id: $id, lineItemId: $lineItemId, quantity: $quantity, restock: $restock) {
    calculatedLineItem {
      id
      quantity
    }
    userErrors {
      field
      message
    }
  }
}
"""
ORDER_EDIT_SET_QUANTITY_COST: Final = 11

ORDER_EDIT_COMMIT: Final = """\
mutation OrderEditCommit($id: ID!, $notifyCustomer: Boolean, $staffNote: String) {
  orderEditCommit(id: $id, notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    order {
      id
    }
    userErrors {
      field
      message
    }
  }
}
"""
ORDER_EDIT_COMMIT_COST: Final = 11

# An order the hub cancelled whole: is it cancelled already (a repeat, or the shop's own)?
ORDER_CANCELLED: Final = """\
query OrderCancelled($id: ID!) {
  order(id: $id) {
    id
    cancelledAt
  }
}
"""
ORDER_CANCELLED_COST: Final = 1

ORDER_CANCEL: Final = """\
mutation OrderCancel(
  $orderId: ID!
  $reason: OrderCancelReason!
  $restock: Boolean!
  $refundMethod: OrderCancelRefundMethodInput
  $notifyCustomer: Boolean
  $staffNote: String
) {
  orderCancel(
    orderId: $orderId
    reason: $reason
    restock: $restock
    refundMethod: $refundMethod
    notifyCustomer: $notifyCustomer
    staffNote: $staffNote
  ) {
    job {
      id
      done
    }
    orderCancelUserErrors {
      field
      message
      code
    }
  }
}
"""
ORDER_CANCEL_COST: Final = 10

# Product page views (ShopifyQL: see `views`); the query text is the variable. Cost: the
# response object, its table and the columns list, 1 each.
VIEWS_READ: Final = """\
query ViewsRead($query: String!) {
  shopifyqlQuery(query: $query) {
    parseErrors
    tableData {
      columns {
        name
        dataType
        displayName
      }
      rows
    }
  }
}
"""
VIEWS_READ_COST: Final = 3

DOCUMENTS: Final = {
    "ListingVariants": LISTING_VARIANTS,
    "ListingEnd": LISTING_END,
    "QuantitiesSet": QUANTITIES_SET,
    "PricesUpdate": PRICES_UPDATE,
    "LevelsRead": LEVELS_READ,
    "OrdersSince": ORDERS_SINCE,
    "OrderLines": ORDER_LINES,
    "ShipmentLines": SHIPMENT_LINES,
    "ShipmentCreate": SHIPMENT_CREATE,
    "OrderEditBegin": ORDER_EDIT_BEGIN,
    "OrderEditSetQuantity": ORDER_EDIT_SET_QUANTITY,
    "OrderEditCommit": ORDER_EDIT_COMMIT,
    "OrderCancelled": ORDER_CANCELLED,
    "OrderCancel": ORDER_CANCEL,
    "ViewsRead": VIEWS_READ,
}
"""Every document above by its operation name (the unit tests validate each against the SDL)."""
