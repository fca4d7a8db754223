"""Weakly supervised sequence tagging on the shared span sets: label models, an end model, LF speed.

Protocol (fixed before looking at any test score; nothing is tuned on test data):

* data: ``spans_ncbi_disease``, ``spans_bc5cdr`` (span format) and ``spans_mit_restaurant`` (WRENCH token
  format), with WRENCH's recommended sources (``lf_rec``: 5, 9 and 16 LFs);
* label models are fit on the votes of ``train`` (no gold) and scored on ``test``; MIT-Restaurant has no
  train split, so there they are fit on the votes of ``valid`` (no gold used) and scored on ``test``;
* MV is computed as WRENCH does (``SeqLabelModelWrapper(MajorityVoting)``): IO tags, ``O`` counts as an
  abstention on tokens where any source fires, ties to the lowest type id, IO -> BIO;
* HMM = ``HMMLabelModel(random_state=0)`` (the default tag model, default parameters), given the datasets
  (votes and tokens), so its short-form source is on; HMM (votes) = the same with ``short_forms=False`` (what
  the votes alone give); DS = ``TokenDawidSkene()``;
* end model = ``CRFTagger(use_votes=True, use_marginals=True)``: text features plus the sources' votes and the
  HMM's posteriors as features, trained on the same split as the label model with the HMM's most likely tags
  (CRFsuite takes hard tags only) and predicting test from the test tokens, votes and HMM posteriors;
  CRF (text) = ``CRFTagger()``, text features only, as a reference;
* score: strict IOB2 span-level micro F1 (seqeval ``mode="strict"``), in percent;
* speed: fit and predict wall time of each model, scaled to 10k sentences of that set; and applying 10
  gazetteer/regex span LFs to 100k sentences (MIT-Restaurant queries resampled; gazetteers built from the
  valid split's gold phrases, only as a workload).

Run from the repository root (writes ``benchmarks/results/tagging.json`` and the ``tagging`` section of
BENCHMARKS.md; needs ``weaklab[sequence]``)::

    PYTHONPATH=src WEAKLAB_DATA=../shared/data python benchmarks/tagging.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import add_tree_args, check_tree, command_line, machine_info, machine_markdown, publish

from weaklab.sequence import (
    CRFTagger,
    HMMLabelModel,
    MajorityVoteTagger,
    TokenDawidSkene,
    apply_span_lfs,
    gazetteer_lf,
    load_tagging,
    regex_span_lf,
    span_f1_report,
)

NAME = "tagging"
SETS = ("spans_ncbi_disease", "spans_bc5cdr", "spans_mit_restaurant")
MODELS = {"MV": MajorityVoteTagger, "HMM (votes)": lambda: HMMLabelModel(random_state=0, short_forms=False),
          "HMM": lambda: HMMLabelModel(random_state=0), "DS": TokenDawidSkene}
END_MODELS = {"CRF (text)": {}, "end model": {"use_votes": True, "use_marginals": True}}


def data_root() -> Path:
    return Path(os.environ.get("WEAKLAB_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _score(pred: list, gold: list) -> dict[str, float]:
    r = span_f1_report(pred, gold)["micro"]
    return {k: round(100 * r[k], 2) for k in ("precision", "recall", "f1")}


def _per10k(seconds: float, n: int) -> float:
    return round(seconds * 10_000 / max(n, 1), 3)


def run_set(name: str, quick: bool) -> dict[str, Any]:
    folder = data_root() / name
    fit_split = "train" if (folder / "train.json").exists() else "valid"
    train = load_tagging(folder, fit_split, sources="recommended")
    test = load_tagging(folder, "test", sources="recommended")
    if quick:
        train, test = _head(train, 60), _head(test, 60)
    out: dict[str, Any] = {"set": name, "fit_split": fit_split, "n_fit": train.n_sentences,
                           "n_test": test.n_sentences, "sources": list(train.source_names), "models": {}}
    fitted = {}
    for label, make in MODELS.items():
        t0 = time.perf_counter()
        model = make().fit(train)
        t1 = time.perf_counter()
        pred = model.predict_spans(test)
        t2 = time.perf_counter()
        fitted[label] = model
        out["models"][label] = {**_score(pred, test.gold), "fit_s_per_10k": _per10k(t1 - t0, train.n_sentences),
                                "predict_s_per_10k": _per10k(t2 - t1, test.n_sentences)}
        print(f"{name} {label}: {out['models'][label]}", file=sys.stderr, flush=True)
    proba = fitted["HMM"].predict_proba(train)
    test_proba = fitted["HMM"].predict_proba(test)
    for label, params in END_MODELS.items():
        kw = {"max_iterations": 10} if quick else {}
        t0 = time.perf_counter()
        crf = CRFTagger(**params, **kw).fit(train.tokens, proba, entity_types=train.entity_types, votes=train.votes)
        t1 = time.perf_counter()
        pred = crf.predict_spans(test.tokens, votes=test.votes, marginals=test_proba)
        t2 = time.perf_counter()
        out["models"][label] = {**_score(pred, test.gold), "fit_s_per_10k": _per10k(t1 - t0, train.n_sentences),
                                "predict_s_per_10k": _per10k(t2 - t1, test.n_sentences)}
        print(f"{name} {label}: {out['models'][label]}", file=sys.stderr, flush=True)
    return out


def _head(ds: Any, n: int) -> Any:
    from weaklab.sequence import TaggingDataset

    idx = list(range(min(n, ds.n_sentences)))
    return TaggingDataset(ds.tokens[:n], None if ds.gold is None else ds.gold[:n], ds.votes.subset(idx), ds.ids[:n],
                          ds.format)


def lf_speed(n_sentences: int) -> dict[str, Any]:
    """Wall time of 10 gazetteer/regex span LFs on ``n_sentences`` resampled MIT-Restaurant queries."""
    folder = data_root() / "spans_mit_restaurant"
    pool = load_tagging(folder, "test").tokens + load_tagging(folder, "valid").tokens
    valid = load_tagging(folder, "valid")
    rng = np.random.default_rng(0)
    sentences = [pool[i] for i in rng.integers(0, len(pool), n_sentences)]
    phrases: dict[str, set[str]] = {}
    for toks, spans in zip(valid.tokens, valid.gold or []):
        for s, e, t in spans:
            phrases.setdefault(t, set()).add(" ".join(toks[s:e]))
    types = sorted(phrases)[:6]
    lfs = [gazetteer_lf(sorted(phrases[t]), t, name=f"gaz_{t}") for t in types]
    lfs += [regex_span_lf(r"\b\d+ ?(star|stars)\b", "Rating", name="re_stars"),
            regex_span_lf(r"\b(cheap|expensive|inexpensive|affordable)\b", "Price", name="re_price"),
            regex_span_lf(r"\b(open|late|tonight|24 hours|midnight)\b", "Hours", name="re_hours"),
            regex_span_lf(r"\b(near|nearby|closest|around here|in town)\b", "Location", name="re_near")]
    t0, c0 = time.perf_counter(), time.process_time()
    votes, report = apply_span_lfs(lfs, sentences)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"n_sentences": n_sentences, "n_lfs": len(lfs), "n_tokens": votes.n_tokens, "n_spans": votes.n_spans,
            "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
            "per_lf_seconds": dict(zip(report.lf_names, map(float, report.seconds)))}


def markdown(results: list[dict[str, Any]], speed: dict[str, Any], info: dict[str, Any]) -> str:
    cols = ["MV", "HMM (votes)", "HMM", "DS", "CRF (text)", "end model"]
    lines = [
        "## Sequence tagging (weak supervision for NER)",
        "",
        "Regenerate: `PYTHONPATH=src WEAKLAB_DATA=../shared/data python benchmarks/tagging.py`.",
        "",
        "Strict span-level micro F1 (%) on **test**, WRENCH's recommended LFs. Label models are fit on the votes "
        "(and tokens) of train (MIT-Restaurant: of valid; it has no train split), no gold used. **MV is computed "
        "exactly as WRENCH does** (`SeqLabelModelWrapper(MajorityVoting)`: IO tags; `O` counts as abstention "
        "where any LF fires; ties to the lowest type, where WRENCH's own code breaks them by a hash of the token "
        "index; IO -> BIO). HMM (votes) = `HMMLabelModel(short_forms=False)`: the votes alone. HMM = "
        "`HMMLabelModel()`, the default tag model: the same HMM given the tokens too, so one more source votes the "
        "short forms an item defines right after a span the sources agree on (`syndrome ( WAS )`) wherever they "
        "recur in the item. DS = `TokenDawidSkene()`. End model = `CRFTagger(use_votes=True, use_marginals=True)`: "
        "CRFsuite over word/shape/affix/context features plus the votes and the HMM's posteriors, trained on the "
        "HMM's most likely IO tags of the fit split; CRF (text) = `CRFTagger()`, text features only. All parameters "
        "are the defaults, chosen on train/valid; none was chosen on test data.",
        "",
        "| set | fit on | " + " | ".join(f"{c} F1 (P / R)" for c in cols) + " |",
        "|---|---|" + "---|" * len(cols),
    ]
    for r in results:
        cells = [f"{m['f1']:.1f} ({m['precision']:.1f} / {m['recall']:.1f})" for m in (r["models"][c] for c in cols)]
        lines.append(f"| {r['set']} | {r['fit_split']} ({r['n_fit']}) | " + " | ".join(cells) + " |")
    means = {c: float(np.mean([r["models"][c]["f1"] for r in results])) for c in cols}
    lines.append("| **mean** | | " + " | ".join(f"**{means[c]:.1f}**" for c in cols) + " |")
    lines += ["", "Seconds per 10k sentences (fit on the fit split / predict on test):", "",
              "| set | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for r in results:
        lines.append(f"| {r['set']} | " + " | ".join(
            f"{r['models'][c]['fit_s_per_10k']:.2f} / {r['models'][c]['predict_s_per_10k']:.2f}" for c in cols) + " |")
    hmm_ge = all(r["models"]["HMM"]["f1"] >= r["models"]["MV"]["f1"] for r in results)
    gain = means["HMM"] - means["MV"]
    end_wins = sum(r["models"]["end model"]["f1"] >= r["models"]["HMM"]["f1"] for r in results)
    end_wins_t = sum(r["models"]["CRF (text)"]["f1"] >= r["models"]["HMM"]["f1"] for r in results)
    lines += [
        "", "Targets:", "",
        f"- default tag model (HMM) >= MV on every set: **{'met' if hmm_ge else 'missed'}** ("
        + ", ".join(f"{r['set']} {r['models']['HMM']['f1'] - r['models']['MV']['f1']:+.2f}" for r in results) + ");",
        f"- HMM >= MV + 2 points on the mean: **{'met' if gain >= 2 else 'missed'}** ({gain:+.2f});",
        "- end model (CRF over text, votes and HMM posteriors) >= its label model (HMM) on >= 2 of 3 sets: "
        f"**{'met' if end_wins >= 2 else 'missed'}** ({end_wins} of {len(results)}: "
        + ", ".join(f"{r['set']} {r['models']['end model']['f1'] - r['models']['HMM']['f1']:+.2f}" for r in results)
        + f"); the text-only CRF: {end_wins_t} of {len(results)};",
        f"- 10 gazetteer/regex span LFs on {speed['n_sentences']:,} sentences ({speed['n_tokens']:,} tokens) "
        f"in < 10 s: **{'met' if speed['seconds'] < 10 else 'missed'}** ({speed['seconds']:.2f} s wall, "
        f"{speed['cpu_seconds']:.2f} s CPU, one run; the machine is shared, so wall time includes waiting for a core).",
        "", machine_markdown(info, ["weaklab", "numpy", "scipy"])
        + f" Load average at the end: {info.get('load_average_at_end', ['?'])[0]}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="60 sentences per split, 10 CRF iterations, 10k LF run")
    add_tree_args(parser)
    args = parser.parse_args(argv)
    if not args.quick:
        check_tree(args.allow_dirty)
    info = machine_info()
    results = [run_set(name, args.quick) for name in SETS]
    speed = lf_speed(10_000 if args.quick else 100_000)
    print(f"LF speed: {speed['seconds']} s", file=sys.stderr)
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    payload = {"machine": info, "command": command_line(argv), "results": results, "lf_speed": speed}
    publish(NAME, payload, markdown(results, speed, info), quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
