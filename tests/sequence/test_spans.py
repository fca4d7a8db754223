"""BIO <-> IO <-> spans conversions: round trips hold for every valid input."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weaklab.errors import ValidationError
from weaklab.sequence import (
    bio_to_io,
    check_spans,
    io_to_bio,
    merge_adjacent,
    spans_to_tags,
    tags_to_spans,
)

TYPES = ["A", "B", "C"]


@st.composite
def sentences(draw):
    """A sentence length and non-overlapping spans inside it."""
    length = draw(st.integers(0, 25))
    cuts = sorted(draw(st.sets(st.integers(0, length), max_size=12)))
    spans = []
    for s, e in itertools.pairwise(cuts):
        if draw(st.booleans()):
            spans.append((s, e, draw(st.sampled_from(TYPES))))
    return length, spans


@given(sentences())
@settings(max_examples=200, deadline=None)
def test_spans_bio_spans_round_trip(sentence):
    """spans -> BIO -> spans gives back the same spans."""
    length, spans = sentence
    assert tags_to_spans(spans_to_tags(spans, length)) == spans


@given(sentences())
@settings(max_examples=200, deadline=None)
def test_spans_io_spans_merges_touching_same_type(sentence):
    """spans -> IO -> spans gives the spans with touching same-type neighbours merged."""
    length, spans = sentence
    assert tags_to_spans(spans_to_tags(spans, length, scheme="io")) == merge_adjacent(spans)


@given(sentences())
@settings(max_examples=200, deadline=None)
def test_bio_io_bio_round_trip(sentence):
    """BIO -> IO -> BIO is the identity on tags whose same-type spans never touch."""
    length, spans = sentence
    merged = merge_adjacent(spans)
    bio = spans_to_tags(merged, length)
    assert io_to_bio(bio_to_io(bio)) == bio
    assert bio_to_io(io_to_bio(bio_to_io(bio))) == bio_to_io(bio)


@given(st.lists(st.sampled_from(["O", "B-A", "I-A", "B-B", "I-B"]), max_size=30))
@settings(max_examples=200, deadline=None)
def test_every_entity_tag_lands_in_exactly_one_span(tags):
    """Lenient decoding covers each non-O tag by one span of its type and no O tag."""
    covered = [None] * len(tags)
    for s, e, t in tags_to_spans(tags):
        for i in range(s, e):
            assert covered[i] is None
            covered[i] = t
    assert covered == [None if t == "O" else t[2:] for t in tags]


def test_stray_inside_tag_starts_a_span():
    """An I- tag after O or after another type starts a new span (seqeval's default mode)."""
    assert tags_to_spans(["O", "I-A", "I-B", "B-B", "I-B"]) == [(1, 2, "A"), (2, 3, "B"), (3, 5, "B")]


def test_bad_tags_and_spans_are_named():
    """Malformed tags and spans raise ValidationError naming the parameter and the value."""
    with pytest.raises(ValidationError, match=r"tags: expected .*'X-A'"):
        tags_to_spans(["O", "X-A"])
    with pytest.raises(ValidationError, match="spans: expected 0 <= start < end <= 3"):
        check_spans([(2, 5, "A")], 3)
    with pytest.raises(ValidationError, match="do not overlap"):
        check_spans([(0, 2, "A"), (1, 3, "B")], 3)
    with pytest.raises(ValidationError, match="scheme"):
        spans_to_tags([], 2, scheme="bilou")
