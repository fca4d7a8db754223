"""A regex_lf without name= is named after the words of its pattern, not after its escapes: the source
tables, `explain` and the dashboard show `regex_update` for r"\\bupdate\\b" (it was `regex_bupdate_b`)."""

from __future__ import annotations

import pytest

from weaklab import regex_lf


@pytest.mark.parametrize(("pattern", "name"), [
    (r"\bupdate\b", "regex_update"),
    (r"https?://|www\.|\.com\b", "regex_https_www_com"),
    (r"check .* out", "regex_check_out"),
    (r"\d+\s*%", "regex_pattern"),
])
def test_default_names_leave_out_escape_sequences(pattern, name):
    assert regex_lf(pattern, 1).name == name


def test_an_explicit_name_is_kept():
    assert regex_lf(r"\bupdate\b", 1, name="re_update").name == "re_update"
