"""Tests of read_table: CSV/TSV/Parquet by suffix, with clear errors."""

from __future__ import annotations

import pandas as pd
import pytest

from weaklab import ValidationError
from weaklab.data import read_table

FRAME = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz", "t.tsv", "t.parquet"])
def test_formats_roundtrip(tmp_path, name):
    """Every supported suffix reads back the table that was written."""
    path = tmp_path / name
    if name.endswith(".parquet"):
        FRAME.to_parquet(path)
    else:
        FRAME.to_csv(path, index=False, sep="\t" if name.endswith(".tsv") else ",")
    out = read_table(path)
    pd.testing.assert_frame_equal(out, FRAME, check_dtype=False)


def test_kwargs_pass_through(tmp_path):
    """Keyword arguments reach the pandas reader."""
    path = tmp_path / "t.csv"
    FRAME.to_csv(path, index=False, sep=";")
    assert list(read_table(str(path), sep=";", usecols=["b"]).columns) == ["b"]


def test_errors(tmp_path):
    """Missing files, folders, unknown suffixes and corrupt files raise ValidationError naming the path."""
    with pytest.raises(ValidationError, match=r"path: expected an existing file.*missing.csv"):
        read_table(tmp_path / "missing.csv")
    with pytest.raises(ValidationError, match="a folder"):
        read_table(tmp_path)
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(ValidationError, match=r"t\.xlsx"):
        read_table(tmp_path / "t.xlsx")
    (tmp_path / "t.parquet").write_text("not parquet")
    with pytest.raises(ValidationError, match=r"t.parquet: expected a readable PARQUET table"):
        read_table(tmp_path / "t.parquet")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValidationError, match=r"empty.csv"):
        read_table(tmp_path / "empty.csv")
    with pytest.raises(ValidationError, match="path"):
        read_table(3)
