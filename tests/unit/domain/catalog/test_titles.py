"""Title templates: worked examples, then properties of the cut for any template and values."""

from __future__ import annotations

import dataclasses
import itertools
import sys
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog.titles import (
    CHANNEL_TITLE_LIMITS,
    SEPARATOR_CHARACTERS,
    LiteralText,
    Placeholder,
    TitleTemplate,
    parse_template,
    render_title,
)
from domain.channels.model import ChannelKind
from domain.errors import ErrorCode, InvalidInput

M_RED = {"Size": "M", "Color": "Red"}
NO_LIMIT = sys.maxsize


def render(
    template: str,
    *,
    brand: str | None = "Acme",
    title: str = "Trail Runner Shoe",
    options: Mapping[str, str] | None = None,
    attributes: Mapping[str, str] | None = None,
    limit: int = NO_LIMIT,
) -> str:
    return render_title(
        parse_template(template),
        brand=brand,
        title=title,
        options=M_RED if options is None else options,
        attributes={} if attributes is None else attributes,
        limit=limit,
    )


def refusal(template: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        parse_template(template)
    assert refused.value.code is ErrorCode.INVALID_INPUT
    assert refused.value.field == "titleTemplate"
    return refused.value


# Parsing


def test_a_template_parses_into_text_and_placeholders() -> None:
    template = parse_template("{brand} {title} ({option:Size}, {attribute:Material}) {options}")
    assert template.source == "{brand} {title} ({option:Size}, {attribute:Material}) {options}"
    assert template.parts == (
        Placeholder("brand"),
        LiteralText(" "),
        Placeholder("title"),
        LiteralText(" ("),
        Placeholder("option", "Size"),
        LiteralText(", "),
        Placeholder("attribute", "Material"),
        LiteralText(") "),
        Placeholder("options"),
    )


def test_a_parsed_template_is_frozen() -> None:
    template = parse_template("{title}")
    with pytest.raises(dataclasses.FrozenInstanceError):
        template.source = "{brand}"  # type: ignore[misc]


def test_a_template_of_plain_text_is_allowed() -> None:
    assert parse_template("Gift card").parts == (LiteralText("Gift card"),)


def test_names_may_hold_spaces_and_are_trimmed() -> None:
    assert parse_template("{option: Shoe Size }").parts == (Placeholder("option", "Shoe Size"),)


@pytest.mark.parametrize("placeholder", ["{colour}", "{Brand}", "{ title }", "{}", "{size:M}"])
def test_an_unknown_placeholder_is_refused_by_name(placeholder: str) -> None:
    message = refusal(f"{{brand}} {placeholder} {{title}}").message
    assert f"unknown placeholder {placeholder}" in message
    assert "{option:NAME}" in message


@pytest.mark.parametrize("template", ["{option:}", "{attribute: }"])
def test_an_option_or_attribute_needs_a_name(template: str) -> None:
    assert "needs a name" in refusal(template).message


@pytest.mark.parametrize(
    ("template", "complaint"),
    [
        ("{brand} {title", "'{' at character 9"),
        ("{brand} title}", "'}' at character 14"),
        ("{{title}}", "'{' at character 1"),
        ("}{title}", "'}' at character 1"),
    ],
)
def test_unbalanced_braces_are_refused_with_where(template: str, complaint: str) -> None:
    assert complaint in refusal(template).message


@pytest.mark.parametrize("template", ["", "   ", "\t\n"])
def test_an_empty_template_is_refused(template: str) -> None:
    assert "empty" in refusal(template).message


@given(template=st.text(max_size=30))
def test_any_text_either_parses_or_is_refused_as_invalid_input(template: str) -> None:
    outcome: TitleTemplate | InvalidInput
    try:
        outcome = parse_template(template)
    except InvalidInput as refused:
        outcome = refused
    if isinstance(outcome, InvalidInput):
        assert outcome.field == "titleTemplate"
    else:
        assert outcome.source == template


# Rendering


def test_brand_title_and_options_fill_the_template() -> None:
    assert render("{brand} {title} - {options}") == "Acme Trail Runner Shoe - M Red"


def test_one_option_or_attribute_is_found_by_name() -> None:
    title = render(
        "{title} {option:Color} / {option:Size} ({attribute:Material})",
        attributes={"Material": "Leather"},
    )
    assert title == "Trail Runner Shoe Red / M (Leather)"


def test_a_missing_brand_leaves_no_leading_space() -> None:
    assert render("{brand} {title} - {options}", brand=None) == "Trail Runner Shoe - M Red"
    assert render("{brand} - {title}", brand="") == "Trail Runner Shoe"


def test_missing_values_leave_no_dangling_separator() -> None:
    assert render("{brand} {title} - {options}", options={}) == "Acme Trail Runner Shoe"
    assert render(
        "{brand} - {title} - {option:Size} - {option:Color}", options={"Color": "Red"}
    ) == ("Acme - Trail Runner Shoe - Red")
    assert render("{brand}, {title}, {attribute:Material}") == "Acme, Trail Runner Shoe"
    assert render("{brand} | {attribute:Material} | {title}") == "Acme | Trail Runner Shoe"
    assert render("{title} ({options})", options={}) == "Trail Runner Shoe"
    assert render("{brand}-{title}", brand=None) == "Trail Runner Shoe"


def test_unknown_option_and_attribute_names_render_as_nothing() -> None:
    assert render("{title} {option:Width} {attribute:Material}") == "Trail Runner Shoe"


def test_whitespace_inside_values_collapses_to_single_spaces() -> None:
    title = render("{brand}  {title}", brand=" Acme ", title="  Trail\tRunner\n Shoe ")
    assert title == "Acme Trail Runner Shoe"


def test_nothing_to_render_gives_an_empty_title() -> None:
    assert render("{brand} - {option:Size}", brand=None, options={}) == ""


def test_a_title_over_the_ebay_limit_is_cut_at_a_word() -> None:
    long_title = "Ultralight Waterproof Trail Runner Shoe with Vibram Outsole and Gore-Tex Lining"
    title = render(
        "{brand} {title} - {options}", title=long_title, limit=CHANNEL_TITLE_LIMITS["ebay"]
    )
    assert title == "Acme Ultralight Waterproof Trail Runner Shoe with Vibram Outsole and Gore-Tex"
    assert len(title) <= 80


def test_a_title_that_fits_exactly_is_not_cut() -> None:
    full = "Acme Trail Runner Shoe - M Red"
    assert render("{brand} {title} - {options}", limit=len(full)) == full
    assert (
        render("{brand} {title} - {options}", limit=len(full) - 1) == "Acme Trail Runner Shoe - M"
    )


def test_separators_at_the_cut_end_are_removed() -> None:
    assert render("{title} - {options}", limit=20) == "Trail Runner Shoe"
    assert render("{brand}, {title}", limit=6) == "Acme"
    assert render("{brand} / {title}", limit=7) == "Acme"


def test_a_first_word_over_the_limit_is_the_one_hard_cut() -> None:
    assert render("{title}", title="Supercalifragilistic shoe", limit=10) == "Supercalif"
    assert render("{brand}", brand="Acme-Corp", limit=5) == "Acme"


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_below_one_is_a_programming_error(limit: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        render("{title}", limit=limit)


def test_every_channel_kind_has_a_title_limit() -> None:
    assert dict(CHANNEL_TITLE_LIMITS) == {
        "shopify": 255,
        "amazon": 200,
        "ebay": 80,
        "mercadolibre": 60,
        "webstore": 255,
    }
    assert {CHANNEL_TITLE_LIMITS[kind] for kind in ChannelKind} <= {255, 200, 80, 60}


# Properties, over templates and values rich in separators, brackets and odd whitespace.

values = st.text(alphabet="abcXYZé -\u2013,|/:()[]\t", max_size=16)
placeholders = st.sampled_from(
    ["{brand}", "{title}", "{options}", "{option:Size}", "{option:Color}", "{attribute:Material}"]
)
literals = st.text(alphabet="ab -,|/:()", max_size=4)
templates = (
    st.lists(placeholders | literals, min_size=1, max_size=7)
    .map("".join)
    .filter(lambda text: bool(text.strip()))
    .map(parse_template)
)
option_values = st.dictionaries(st.sampled_from(["Size", "Color", "Fit"]), values, max_size=3)
attribute_values = st.dictionaries(st.sampled_from(["Material", "Style"]), values, max_size=2)
limits = st.integers(min_value=1, max_value=40)


@dataclasses.dataclass(frozen=True)
class Listing:
    template: TitleTemplate
    brand: str | None
    title: str
    options: dict[str, str]
    attributes: dict[str, str]

    def render(self, limit: int) -> str:
        return render_title(
            self.template,
            brand=self.brand,
            title=self.title,
            options=self.options,
            attributes=self.attributes,
            limit=limit,
        )


listings = st.builds(
    Listing,
    template=templates,
    brand=st.none() | values,
    title=values,
    options=option_values,
    attributes=attribute_values,
)


@given(listing=listings, limit=limits)
def test_never_over_the_limit(listing: Listing, limit: int) -> None:
    assert len(listing.render(limit)) <= limit


@given(listing=listings, limit=limits)
def test_never_a_cut_word(listing: Listing, limit: int) -> None:
    full = listing.render(NO_LIMIT)
    title = listing.render(limit)
    assert full.startswith(title)
    full_words, words = full.split(), title.split()
    if full_words and len(full_words[0]) > limit:
        # The one hard cut: a piece of the first word, alone.
        assert len(words) <= 1
        assert full_words[0].startswith(title)
        return
    # Whole leading words; only separators may have been taken off the last one kept.
    assert bool(words) == bool(full_words)
    if words:
        assert words[:-1] == full_words[: len(words) - 1]
        assert words[-1] == full_words[len(words) - 1].rstrip(SEPARATOR_CHARACTERS)


@given(listing=listings, limit=limits)
def test_a_title_that_fits_is_not_cut(listing: Listing, limit: int) -> None:
    full = listing.render(NO_LIMIT)
    assert listing.render(max(limit, len(full), 1)) == full


@given(listing=listings, limit=limits)
def test_rendering_is_deterministic(listing: Listing, limit: int) -> None:
    assert listing.render(limit) == listing.render(limit)


@given(listing=listings, limit=limits)
def test_rendering_a_rendered_title_again_changes_nothing(listing: Listing, limit: int) -> None:
    title = listing.render(limit)
    again = render_title(
        parse_template("{title}"), brand=None, title=title, options={}, attributes={}, limit=limit
    )
    assert again == title


@given(listing=listings, limit=limits)
def test_the_title_is_tidy(listing: Listing, limit: int) -> None:
    title = listing.render(limit)
    assert title == " ".join(title.split())
    if title:
        assert title[0] not in SEPARATOR_CHARACTERS
        assert title[-1] not in SEPARATOR_CHARACTERS
    words = title.split()
    for before, after in itertools.pairwise(words):
        standalone = all(char in SEPARATOR_CHARACTERS for char in after)
        assert not (standalone and before[-1] in SEPARATOR_CHARACTERS)
