"""Templates as a newcomer meets them: a regex_lf without name= is named after the words of its pattern,
not its escapes (`regex_update` for r"\\bupdate\\b", was `regex_bupdate_b`), and a template on data without a
'text' column says how to point it at the right one."""

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


def test_a_template_on_data_without_a_text_column_says_how_to_name_the_column():
    import pandas as pd

    from weaklab import keyword_lf
    from weaklab.errors import ValidationError
    from weaklab.labeling import apply_lfs

    tickets = pd.DataFrame({"ticket_no": ["T1", "T2"], "ticket_body": ["refund please", "it crashes"]})
    with pytest.raises(ValidationError, match=r"expected a column 'text'.*'ticket_body'.*field="):
        apply_lfs([keyword_lf(["refund"], 0)], tickets, progress=False)
    L, _ = apply_lfs([keyword_lf(["refund"], 0, field="ticket_body")], tickets, progress=False)
    assert L.to_dense().ravel().tolist() == [0, -1]
