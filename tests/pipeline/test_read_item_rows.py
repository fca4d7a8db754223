"""`read_item_rows` (what `weaklab doctor` reads of a Dask project's data file) reads the file as `load_data` does:
the same formats by suffix, and a file that cannot be parsed is a ValidationError naming it (the doctor then says
the file cannot be read) rather than a parser's own exception, which ended the doctor with a traceback."""

from __future__ import annotations

import pytest

from weaklab.errors import ValidationError
from weaklab.pipeline import init_project, load_config
from weaklab.pipeline.loading import load_data, read_item_rows


def _project_on(tmp_path, name):
    """The example project with its data file replaced by ``data/<name>``; its config and the original table."""
    init_project(tmp_path, n_items=40)
    config = load_config(tmp_path)
    frame = load_data(config)
    toml = tmp_path / "weaklab.toml"
    toml.write_text(toml.read_text().replace(config.data_path.name, name))
    return frame, tmp_path / "data" / name


@pytest.mark.parametrize("name", ["items.tsv.gz", "items.csv.gz", "items.tab"])
def test_read_item_rows_reads_every_suffix_load_data_reads(tmp_path, name):
    """A gzipped TSV (and the other suffixes load_data reads) gives the asked rows, as load_data gives them."""
    frame, path = _project_on(tmp_path, name)
    frame.to_csv(path, sep="," if ".csv" in name else "\t", index=False)
    config = load_config(tmp_path)
    wanted = frame["comment_id"].iloc[[3, 30]].astype(str).tolist()
    found = read_item_rows(config, set(wanted), batch_rows=8)
    assert found["comment_id"].astype(str).tolist() == wanted
    assert found["text"].tolist() == load_data(config)["text"].iloc[[3, 30]].tolist()


@pytest.mark.parametrize(("name", "content"), [("items.parquet", b"not a parquet file"),
                                               ("items.csv", b'comment_id,text\n"open quote,1\n')])
def test_read_item_rows_names_a_file_it_cannot_parse(tmp_path, name, content):
    """A corrupt Parquet file or a CSV file with an unclosed quote is a ValidationError naming the file."""
    _, path = _project_on(tmp_path, name)
    path.write_bytes(content)
    with pytest.raises(ValidationError, match=name):
        read_item_rows(load_config(tmp_path), {"1"})


def _zero_padded_ids(tmp_path, n_numeric):
    """The 40-item example with ids ``0000``, ``0001``, ... on its first ``n_numeric`` rows, ``x<row>`` after."""
    frame, path = _project_on(tmp_path, "items.csv")
    frame["comment_id"] = [f"{i:04d}" if i < n_numeric else f"x{i}" for i in range(len(frame))]
    frame.to_csv(path, index=False)
    return load_config(tmp_path)


def test_read_item_rows_reads_an_id_as_the_same_text_in_every_batch(tmp_path):
    """Ids 0000..0019 then x20..x39 read 8 rows at a time: 0003 (in a batch of digits only) is found by its text as
    x30 is, as load_data reads them, whatever the batch size (a batch's own type guess read it as the number 3)."""
    config = _zero_padded_ids(tmp_path, 20)
    wanted = ["0003", "0017", "x30"]
    assert load_data(config)["comment_id"].iloc[[3, 17, 30]].tolist() == wanted
    for batch_rows in (8, 16, 40):
        assert read_item_rows(config, set(wanted), batch_rows=batch_rows)["comment_id"].tolist() == wanted


def test_read_item_rows_with_integer_ids_reads_each_id_as_its_integer(tmp_path):
    """With integer_ids (the run read the id column as integers), 0003 is item 3 in a batch of digits only and in a
    batch that also holds text ids; a text id is still found by its text."""
    config = _zero_padded_ids(tmp_path, 20)
    for batch_rows in (8, 18, 40):
        found = read_item_rows(config, {"3", "17", "x30"}, batch_rows=batch_rows, integer_ids=True)
        assert found["comment_id"].tolist() == [3, 17, "x30"] and found.index.tolist() == [3, 17, 30]
    config = _zero_padded_ids(tmp_path / "all", 40)
    found = read_item_rows(config, {"3", "0017"}, batch_rows=8, integer_ids=True)
    assert found["comment_id"].tolist() == [3]


@pytest.mark.parametrize(("keyword", "value"), [("batch_rows", 0), ("batch_rows", 2.5), ("batch_rows", True),
                                                ("integer_ids", "yes")])
def test_read_item_rows_names_a_bad_keyword(tmp_path, keyword, value):
    """A batch size below 1 or not an integer, or integer_ids not a bool, is an error naming the keyword (a bad
    batch_rows was pandas' chunksize error, reported as the data file being unreadable)."""
    _project_on(tmp_path, "comments.csv")
    with pytest.raises(ValidationError, match=f"^{keyword}: expected"):
        read_item_rows(load_config(tmp_path), {"1"}, **{keyword: value})
