"""Repeated item lookups on one dataset use a sorted key index that gives the same rows as the database."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab import ValidationError
from weaklab.store import Store


def test_claims_after_many_lookups_use_the_index_and_agree(tmp_path):
    """A long-lived store claims the same items with and without the index; unknown ids still fail."""
    ids = np.array([f"id-{i}" for i in np.random.default_rng(0).permutation(3000)], dtype=object)
    with Store(tmp_path / "s.duckdb") as st:
        ds = st.add_dataset("d", item_ids=ids)
        run = st.start_run(ds)
        got = [st.claim_items(run, f"a{k}", ids[k * 10:(k + 1) * 10], n=1)[0] for k in range(8)]
        assert got == [ids[k * 10] for k in range(8)]
        with pytest.raises(ValidationError, match="unknown id"):
            st.claim_items(run, "z", np.array(["nope"], dtype=object), n=1)
        assert st.claim_items(run, "b", np.array(["id-2999", "id-é"], dtype=object)[:1], n=1) == ["id-2999"]
