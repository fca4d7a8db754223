"""Partition-level resume of apply_lfs(engine="dask", output=...): a rerun recomputes only the partitions
whose votes file is missing, stale or does not match its manifest entry, and equals the local engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from weaklab import ABSTAIN, LabelMatrix, PartitionedLabelMatrix
from weaklab.errors import LFExecutionError
from weaklab.labeling import apply_lfs, keyword_lf, labeling_function, regex_lf

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")

SPAM, HAM = 1, 0
N_PARTITIONS = 6


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="sync"):
        yield


def frame(n: int = 120) -> pd.DataFrame:
    words = ["free money", "nice song", "check it out", "FREE prize", "love this", "why though"]
    return pd.DataFrame({"key": [f"k{i}" for i in range(n)], "text": [words[i % 6] for i in range(n)],
                         "n": np.arange(n)})


def counting_lf(folder: Path, armed: Path, fail_at: int = -1, fail_on_run: int | None = None):
    """An LF that records each partition it runs on (a file named by its first row) and, while ``armed`` exists,
    raises at row ``fail_at`` or on the ``fail_on_run``-th partition it runs on (whichever partition the
    scheduler runs then; its first row goes to ``failed-at``). The same LF, with the same version, runs again
    once ``armed`` is removed."""
    folder.mkdir(exist_ok=True)

    @labeling_function(vectorized=True, name="lf_counts")
    def lf_counts(df):
        earlier = len(list(folder.glob("ran-*")))
        (folder / f"ran-{int(df['n'].iloc[0])}").touch()
        nth = fail_on_run is not None and earlier + 1 == fail_on_run
        if armed.exists() and ((df["n"] == fail_at).any() or nth):
            (folder / "failed-at").write_text(str(int(df["n"].iloc[0])))
            raise RuntimeError("the run dies here")
        return np.where(df["n"] % 5 == 0, HAM, ABSTAIN)

    return lf_counts


LFS = [keyword_lf(["free", "prize"], SPAM), regex_lf(r"check \w+ out", SPAM), keyword_lf(["love", "song"], HAM)]


def runs(folder: Path) -> int:
    """How many partition runs the counting LF recorded, then forget them."""
    files = list(folder.glob("ran-*"))
    for f in files:
        f.unlink()
    return len(files)


def gathered(plm: PartitionedLabelMatrix) -> LabelMatrix:
    return LabelMatrix.concat([plm.read_partition(i) for i in range(plm.n_partitions)])


def apply_parts(lfs, data, root):
    return apply_lfs(lfs, dd.from_pandas(data, npartitions=N_PARTITIONS, sort=False), engine="dask",
                     item_id="key", output=str(root), progress=False)


def complete_entries(root: Path) -> set[int]:
    return {int(p.stem.split("-")[1]) for p in (root / "_manifest").glob("part-*.json")}


def test_a_rerun_after_a_failed_run_recomputes_only_the_partitions_not_written(tmp_path):
    """A run that fails in the last partition it runs leaves the others complete; the rerun runs the LFs on the rest
    only. (The failing partition is the last one the scheduler runs, whatever its order, so the others finish.)"""
    data, root, seen, armed = frame(), tmp_path / "votes", tmp_path / "seen", tmp_path / "armed"
    armed.touch()
    lfs = [*LFS, counting_lf(seen, armed, fail_on_run=N_PARTITIONS)]
    with pytest.raises(LFExecutionError, match="the run dies here"):
        apply_parts(lfs, data, root)
    written = complete_entries(root)
    failed = int((seen / "failed-at").read_text()) // (len(data) // N_PARTITIONS)
    assert not (root / "_weaklab.json").exists(), "a failed run must not write the dataset's metadata"
    assert 1 <= len(written) < N_PARTITIONS and failed not in written
    runs(seen)
    armed.unlink()
    plm, report = apply_parts(lfs, data, root)
    assert runs(seen) == N_PARTITIONS - len(written)
    assert report.partitions_reused == len(written)
    local, local_report = apply_lfs(lfs, data, item_id="key", progress=False)
    assert gathered(plm).equals(local)
    assert report.coverage == pytest.approx(local_report.coverage)
    runs(seen)
    again, report = apply_parts(lfs, data, root)
    assert runs(seen) == 0 and report.partitions_reused == N_PARTITIONS and again == plm


def test_changed_rows_stale_files_and_missing_entries_are_recomputed(tmp_path):
    """Only the partition whose rows changed, whose file was replaced or whose entry is missing runs again."""
    data, root, seen = frame(), tmp_path / "votes", tmp_path / "seen"
    lfs = [*LFS, counting_lf(seen, tmp_path / "never", fail_at=-1)]
    apply_parts(lfs, data, root)
    assert runs(seen) == N_PARTITIONS
    changed = data.copy()
    changed.loc[3, "text"] = "free free free"  # partition 0
    other = PartitionedLabelMatrix.open(str(root))
    (root / "_manifest" / "part-00002.json").unlink()  # as if killed between the file and its entry
    stale = other.read_votes(4)
    stale[LFS[0].name] = np.int8(HAM)
    stale.to_parquet(root / "votes" / "part-00004.parquet", index=False)  # a file its entry does not describe
    plm, report = apply_parts(lfs, changed, root)
    assert runs(seen) == 3 and report.partitions_reused == N_PARTITIONS - 3
    local, _ = apply_lfs(lfs, changed, item_id="key", progress=False)
    assert gathered(plm).equals(local)


def test_new_lf_versions_reuse_nothing(tmp_path):
    """Another set of LFs (other versions) makes every partition's key differ: all are recomputed."""
    data, root, seen = frame(), tmp_path / "votes", tmp_path / "seen"
    apply_parts([*LFS, counting_lf(seen, tmp_path / "never", fail_at=-1)], data, root)
    runs(seen)
    lfs = [*LFS[:2], keyword_lf(["why"], HAM), counting_lf(seen, tmp_path / "never", fail_at=-1)]
    plm, report = apply_parts(lfs, data, root)
    assert runs(seen) == N_PARTITIONS and report.partitions_reused == 0
    local, _ = apply_lfs(lfs, data, item_id="key", progress=False)
    assert gathered(plm).equals(local)


def test_a_manifest_entry_records_the_key_rows_and_statistics(tmp_path):
    """Each entry names its partition, a key, the row count, the votes fingerprint and the per-LF counters."""
    plm, _ = apply_parts(LFS, frame(), tmp_path)
    entry = json.loads((tmp_path / "_manifest" / "part-00001.json").read_text())
    assert entry["partition"] == 1 and entry["rows"] == plm.partition_rows[1]
    assert entry["votes"] == plm.partition_fingerprints[1] and len(entry["covered"]) == len(LFS)
    assert isinstance(entry["key"], str) and len(entry["key"]) == 32
