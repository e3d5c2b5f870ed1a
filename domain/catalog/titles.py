"""Title templates: how a product's listing title is written for a channel, within its limit.

A template is text with placeholders in braces:

- ``{brand}``, ``{title}``: the product's brand and title;
- ``{options}``: the variant's option values, in option order, joined by spaces;
- ``{option:Size}``: the value of one option, by its name;
- ``{attribute:Material}``: the value of one product attribute, by its name.

Braces always delimit placeholders; a template cannot contain a literal brace.
Names are matched exactly, once trimmed of surrounding spaces (``{option:size}`` does not
find the option ``Size``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from domain.errors import InvalidInput

CHANNEL_TITLE_LIMITS: Final[Mapping[str, int]] = MappingProxyType(
    {"shopify": 255, "amazon": 200, "ebay": 80, "mercadolibre": 60, "webstore": 255}
)
"""The longest title, in characters, each channel kind accepts."""

# Hyphen, en and em dash, bar, slash, comma, colon, semicolon, middle dot, bullet.
SEPARATOR_CHARACTERS: Final = "-\u2013\u2014|/,:;\u00b7\u2022"
"""Characters that join parts of a title; left dangling by an empty part, they are dropped."""

_FIELD = "titleTemplate"
_KNOWN = "{brand}, {title}, {options}, {option:NAME} or {attribute:NAME}"
# Empty brackets are what "({options})" leaves when the variant has no options.
_EMPTY_BRACKETS = frozenset({"()", "[]"})

PlaceholderKind = Literal["brand", "title", "options", "option", "attribute"]


@dataclass(frozen=True, slots=True)
class LiteralText:
    """Text of the template written as is."""

    text: str


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A value filled in at rendering; `name` is the option or attribute name, if any."""

    kind: PlaceholderKind
    name: str | None = None


@dataclass(frozen=True, slots=True)
class TitleTemplate:
    """A parsed title template: its source text and its parts, in order."""

    source: str
    parts: tuple[LiteralText | Placeholder, ...]


def parse_template(template: str) -> TitleTemplate:
    """Parse `template`, or raise InvalidInput on the field "titleTemplate".

    Fails on an empty (or blank) template, on unbalanced braces, and on an unknown
    placeholder, whose message names it.
    """
    if not template.strip():
        raise InvalidInput("a title template must not be empty", field=_FIELD)
    parts: list[LiteralText | Placeholder] = []
    position = 0
    while position < len(template):
        opening = template.find("{", position)
        closing = template.find("}", position)
        if closing != -1 and (opening == -1 or closing < opening):
            raise InvalidInput(
                f"'}}' at character {closing + 1} of the title template has no matching '{{'",
                field=_FIELD,
            )
        if opening == -1:
            parts.append(LiteralText(template[position:]))
            break
        if opening > position:
            parts.append(LiteralText(template[position:opening]))
        nested = template.find("{", opening + 1)
        if closing == -1 or (nested != -1 and nested < closing):
            raise InvalidInput(
                f"'{{' at character {opening + 1} of the title template is never closed by '}}'",
                field=_FIELD,
            )
        parts.append(_placeholder(template[opening + 1 : closing]))
        position = closing + 1
    return TitleTemplate(source=template, parts=tuple(parts))


def _placeholder(inside: str) -> Placeholder:
    if inside == "brand":
        return Placeholder("brand")
    if inside == "title":
        return Placeholder("title")
    if inside == "options":
        return Placeholder("options")
    kind, colon, name = inside.partition(":")
    if colon and kind in ("option", "attribute"):
        if not name.strip():
            raise InvalidInput(
                f"placeholder {{{inside}}} needs a name, e.g. {{{kind}:Size}}", field=_FIELD
            )
        return Placeholder("option" if kind == "option" else "attribute", name.strip())
    raise InvalidInput(
        f"unknown placeholder {{{inside}}} in the title template; use {_KNOWN}", field=_FIELD
    )


def render_title(
    template: TitleTemplate,
    *,
    brand: str | None,
    title: str,
    options: Mapping[str, str],
    attributes: Mapping[str, str],
    limit: int,
) -> str:
    """The title `template` gives for these values, at most `limit` characters long.

    `options` maps option names to values, in the product's option order. A missing value
    renders as nothing. Runs of whitespace become one space, and separators (see
    SEPARATOR_CHARACTERS) left dangling by empty values are dropped: at either end, doubled,
    and empty brackets.

    A title over `limit` is cut after its last whole word that fits, never inside a word,
    and separators left at the cut end are removed. The single exception: when the first
    word alone is longer than `limit`, there is no whole word to keep, so that word is cut
    hard to `limit` characters (less any separators it then ends with). Lengths count
    characters (code points). Raises ValueError if `limit` is below 1.
    """
    if limit < 1:
        raise ValueError(f"a title limit is at least 1 character, got {limit}")
    filled = "".join(
        _fill(part, brand=brand, title=title, options=options, attributes=attributes)
        for part in template.parts
    )
    return " ".join(_shorten(_tidy(filled.split()), limit))


def _shorten(words: list[str], limit: int) -> list[str]:
    """The longest run of whole leading `words` that fits `limit` once joined by spaces."""
    if len(" ".join(words)) <= limit:
        return words
    kept: list[str] = []
    length = -1  # the first word has no space before it
    for word in words:
        length += 1 + len(word)
        if length > limit:
            break
        kept.append(word)
    kept = _trim_end(kept)
    if not kept:  # the first word alone is over the limit: the one hard cut
        kept = _trim_end([words[0][:limit]])
    return kept


def _fill(
    part: LiteralText | Placeholder,
    *,
    brand: str | None,
    title: str,
    options: Mapping[str, str],
    attributes: Mapping[str, str],
) -> str:
    if isinstance(part, LiteralText):
        return part.text
    if part.kind == "brand":
        return brand or ""
    if part.kind == "title":
        return title
    if part.kind == "options":
        return " ".join(options.values())
    if part.kind == "option":
        return options.get(part.name or "", "")
    return attributes.get(part.name or "", "")


def _is_separator(word: str) -> bool:
    return all(char in SEPARATOR_CHARACTERS for char in word)


def _tidy(words: list[str]) -> list[str]:
    """Drop the separators empty values leave behind: leading, doubled, trailing, empty brackets."""
    tidy: list[str] = []
    for word in words:
        if not tidy:
            word = word.lstrip(SEPARATOR_CHARACTERS)
        if not word or word.strip(SEPARATOR_CHARACTERS) in _EMPTY_BRACKETS:
            continue
        if _is_separator(word) and tidy[-1][-1] in SEPARATOR_CHARACTERS:
            continue
        tidy.append(word)
    return _trim_end(tidy)


def _trim_end(words: list[str]) -> list[str]:
    """`words` without separators at the end, standalone or stuck to the last word."""
    trimmed = list(words)
    while trimmed:
        last = trimmed[-1].rstrip(SEPARATOR_CHARACTERS)
        if last and last not in _EMPTY_BRACKETS:
            trimmed[-1] = last
            return trimmed
        trimmed.pop()
    return trimmed
