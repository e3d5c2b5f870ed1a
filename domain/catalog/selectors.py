"""Which products a channel lists automatically."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from domain.catalog.model import Category, Product, ProductStatus
from domain.channels.listing import Selector, SelectorKind


class CategoryTree:
    def __init__(self, categories: Iterable[Category]):
        self.by_id: dict[uuid.UUID, Category] = {c.id: c for c in categories}

    def ancestors_and_self(self, category_id: uuid.UUID | None) -> set[str]:
        found: set[str] = set()
        while category_id is not None and str(category_id) not in found:
            found.add(str(category_id))
            category = self.by_id.get(category_id)
            category_id = category.parent_id if category else None
        return found

    def subtree(self, category_id: uuid.UUID) -> tuple[uuid.UUID, ...]:
        children: dict[uuid.UUID | None, list[uuid.UUID]] = {}
        for category in self.by_id.values():
            children.setdefault(category.parent_id, []).append(category.id)
        found, stack = [category_id], [category_id]
        while stack:
            for child in children.get(stack.pop(), []):
                found.append(child)
                stack.append(child)
        return tuple(found)


def selects(selector: Selector, product: Product, tree: CategoryTree) -> bool:
    """Whether an active product falls under the selector (archived ones never do)."""
    if product.status is not ProductStatus.ACTIVE:
        return False
    wanted = set(selector.values)
    match selector.kind:
        case SelectorKind.NONE:
            return False
        case SelectorKind.ALL:
            return True
        case SelectorKind.TAGS:
            return not wanted.isdisjoint(product.tags)
        case SelectorKind.BRANDS:
            return product.brand is not None and product.brand in wanted
        case SelectorKind.CATEGORIES:
            return not wanted.isdisjoint(tree.ancestors_and_self(product.category_id))
    return False


def category_for(
    category_map: Mapping[str, str], product: Product, tree: CategoryTree
) -> str | None:
    """The channel category mapped to the product's category, or to its nearest ancestor."""
    category_id = product.category_id
    seen: set[uuid.UUID] = set()
    while category_id is not None and category_id not in seen:
        seen.add(category_id)
        mapped = category_map.get(str(category_id))
        if mapped:
            return mapped
        category = tree.by_id.get(category_id)
        category_id = category.parent_id if category else None
    return None
