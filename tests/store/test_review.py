"""The review-queue primitive: claims never overlap, answers release them, leases expire."""

from __future__ import annotations

import threading
import time

import pytest

from weaklab import ValidationError


@pytest.fixture
def queue(store, spam):
    """A store with one run over the spam items; returns (store, dataset id, run id, item ids)."""
    L, _ = spam
    ds = store.add_dataset("spam", L.item_ids)
    run = store.start_run(ds)
    store.add_application(ds, L, run_id=run)
    return store, ds, run, list(L.item_ids)


def test_two_reviewers_never_get_the_same_item(queue):
    """Items claimed by one annotator are not handed to another while the claim lasts."""
    store, _, run, items = queue
    alice = store.claim_items(run, "alice", items[:10], n=4)
    bob = store.claim_items(run, "bob", items[:10], n=4)
    assert alice == items[:4] and bob == items[4:8]
    assert store.claim_items(run, "alice", items[:10], n=4) == alice  # own claims come back, renewed


def test_answers_release_claims_and_are_not_handed_out_again(queue):
    """An answered item is released and never claimed again, by anyone."""
    store, ds, run, items = queue
    first = store.claim_items(run, "alice", items[:5], n=2)
    store.add_annotation(ds, first[0], "alice", 1, run_id=run)
    assert store.claim_items(run, "bob", items[:5], n=5) == items[2:5]
    assert store.claim_items(run, "alice", items[:5], n=5) == [first[1]]
    assert len(store.claims(run)) == 4


def test_expired_claims_are_handed_out_again(queue):
    """A claim older than its lease is free for someone else."""
    store, _, run, items = queue
    assert store.claim_items(run, "alice", items[:3], n=3, lease_seconds=0.05) == items[:3]
    time.sleep(0.1)
    assert store.claim_items(run, "bob", items[:3], n=3) == items[:3]
    assert store.release_claims(run, "bob") == 3


def test_concurrent_reviewers_in_threads_get_disjoint_items(queue):
    """Eight threads claiming at once from one Store get disjoint batches covering the candidates."""
    store, _, run, items = queue
    got: dict[str, list] = {}

    def work(name):
        got[name] = store.claim_items(run, name, items[:80], n=10)

    threads = [threading.Thread(target=work, args=(f"r{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [item for batch in got.values() for item in batch]
    assert sorted(claimed) == sorted(items[:80])


def test_claims_validate_their_inputs(queue):
    """Unknown candidates, bad counts and unknown runs raise ValidationError naming the parameter."""
    store, _, run, items = queue
    with pytest.raises(ValidationError, match="candidates"):
        store.claim_items(run, "alice", ["nope"], n=1)
    with pytest.raises(ValidationError, match="n"):
        store.claim_items(run, "alice", items, n=-1)
    with pytest.raises(ValidationError, match="run_id"):
        store.claim_items(999, "alice", items, n=1)
