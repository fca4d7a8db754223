"""Opening a store checks its schema: foreign, newer, corrupt and older files are handled without damage."""

from __future__ import annotations

import duckdb
import pytest

from weaklab import SchemaVersionError, StoreError
from weaklab.store import SCHEMA_VERSION, Store, schema


def test_new_store_is_created_with_the_current_schema(tmp_path):
    """A missing file is created, with its folder, at the current schema version, and reopens cleanly."""
    path = tmp_path / "deep" / "weaklab.duckdb"
    with Store(path) as st:
        ds = st.add_dataset("d", n_items=3)
    with Store(path) as st:
        assert st.datasets()["dataset_id"].tolist() == [ds]
    con = duckdb.connect(str(path), read_only=True)
    version = con.execute("SELECT value FROM schema_info WHERE key = 'schema_version'").fetchone()[0]
    con.close()
    assert int(version) == SCHEMA_VERSION


def test_default_path_is_under_dot_weaklab(tmp_path, monkeypatch):
    """Store() without a path uses .weaklab/weaklab.duckdb in the working directory."""
    monkeypatch.chdir(tmp_path)
    with Store() as st:
        assert st.path == tmp_path / ".weaklab" / "weaklab.duckdb"
    assert (tmp_path / ".weaklab" / "weaklab.duckdb").exists()


def test_a_file_that_is_not_duckdb_gives_a_store_error_naming_it(tmp_path):
    """Opening a text file as a store raises StoreError naming the file."""
    path = tmp_path / "notes.duckdb"
    path.write_text("not a database\n" * 100)
    with pytest.raises(StoreError, match=r"notes\.duckdb.*not a DuckDB database"):
        Store(path)


def test_a_truncated_store_gives_a_store_error_naming_it(tmp_path):
    """A store file cut short raises StoreError naming the file."""
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        st.add_dataset("d", n_items=1000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(StoreError, match=r"s\.duckdb"):
        with Store(path) as st:
            st.datasets()


def test_a_foreign_duckdb_file_is_refused_untouched(tmp_path):
    """A DuckDB file with other tables raises SchemaVersionError and is not modified."""
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales (x INTEGER)")
    con.close()
    before = path.read_bytes()
    with pytest.raises(SchemaVersionError, match="foreign"):
        Store(path)
    assert path.read_bytes() == before


def test_a_newer_schema_is_refused_untouched(tmp_path):
    """A store written by a newer weaklab raises SchemaVersionError and is not modified."""
    path = tmp_path / "s.duckdb"
    Store(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE schema_info SET value = '999' WHERE key = 'schema_version'")
    con.close()
    before = path.read_bytes()
    with pytest.raises(SchemaVersionError, match="newer"):
        Store(path)
    with pytest.raises(SchemaVersionError, match="newer"):
        Store(path, read_only=True)
    assert path.read_bytes() == before


def test_an_older_schema_is_migrated_and_keeps_its_records(tmp_path, monkeypatch):
    """Opening an older store for writing applies the missing migrations and keeps every record."""
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        ds = st.add_dataset("d", n_items=5)
    step = schema.Migration("test: a notes table", ("CREATE TABLE notes (note VARCHAR)",))
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, step))
    with Store(path) as st:
        assert st.datasets()["dataset_id"].tolist() == [ds]
    con = duckdb.connect(str(path), read_only=True)
    version = con.execute("SELECT value FROM schema_info WHERE key = 'schema_version'").fetchone()[0]
    con.execute("SELECT count(*) FROM notes").fetchone()
    con.close()
    assert int(version) == SCHEMA_VERSION + 1


def test_read_only_needs_an_existing_store(tmp_path):
    """A read-only store that does not exist raises StoreError naming the path."""
    with pytest.raises(StoreError, match=r"missing\.duckdb"):
        Store(tmp_path / "missing.duckdb", read_only=True)


def test_a_version_1_store_migrates_and_its_answers_get_their_class_names(tmp_path):
    """A store written before answers carried class names opens, migrates, and names its answers by its run."""
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_info (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
    con.execute("INSERT INTO schema_info VALUES ('format', 'weaklab-store'), ('schema_version', '1')")
    for statement in schema.MIGRATIONS[0].statements:
        con.execute(statement)
    con.execute("INSERT INTO datasets VALUES (1, 'spam', 'fp', 'ids', 2, '<U2', 'none', '{}', now())")
    con.execute("INSERT INTO items VALUES (1, 'a', 0), (1, 'b', 1)")
    con.execute("INSERT INTO runs VALUES (1, 1, '{}', 'finished', '{}', now(), now())")
    con.execute("INSERT INTO soft_labels VALUES (1, 1, 1, 'label_model', NULL, 'fp', 2, 2, '[\"HAM\", \"SPAM\"]', "
                "'none', NULL, NULL, now())")
    con.execute("INSERT INTO annotations VALUES (1, 1, 'a', 0, 'ann', 1, 'review', NULL, now()), "
                "(2, 1, 'b', 1, 'ann', 0, 'review', 1, now())")
    con.close()
    with Store(path) as st:
        answers = st.annotations(1)
        assert answers["class_name"].tolist() == ["SPAM", "HAM"]
        assert answers["status"].tolist() == ["answered", "answered"] and answers["current"].all()
        assert st.runs()["status"].tolist() == ["finished"]


def test_a_read_only_command_migrates_a_writable_older_store_first(tmp_path, monkeypatch):
    """Opening an older, writable store read-only (as `weaklab runs` does) migrates it once, then reads it."""
    path = tmp_path / "s.duckdb"
    with Store(path) as st:
        ds = st.add_dataset("d", n_items=5)
    step = schema.Migration("test: a notes table", ("CREATE TABLE notes (note VARCHAR)",))
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, step))
    with Store(path, read_only=True) as st:
        assert st.datasets()["dataset_id"].tolist() == [ds]
    con = duckdb.connect(str(path), read_only=True)
    version = con.execute("SELECT value FROM schema_info WHERE key = 'schema_version'").fetchone()[0]
    con.close()
    assert int(version) == SCHEMA_VERSION + 1


def test_a_read_only_older_store_that_cannot_be_written_names_the_migration(tmp_path, monkeypatch):
    """An older store whose file is not writable is refused read-only with a SchemaVersionError, unmodified."""
    path = tmp_path / "s.duckdb"
    Store(path).close()
    step = schema.Migration("test: a notes table", ("CREATE TABLE notes (note VARCHAR)",))
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, step))
    monkeypatch.setattr("os.access", lambda *a, **k: False)
    before = path.read_bytes()
    with pytest.raises(SchemaVersionError, match="migration"):
        Store(path, read_only=True)
    assert path.read_bytes() == before
