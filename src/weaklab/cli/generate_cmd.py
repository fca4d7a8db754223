"""``weaklab generate``: labeling functions induced from a few gold labels, written as lfs_generated.py."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import echo_json, handled, json_option, make_console, project_option, records

_KINDS = ("keyword", "regex", "threshold", "embedding")


@click.command()
@click.option("--gold", "gold_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="CSV with columns id (or the project's id column) and label (or its gold column): class names or "
                   "ids.")
@click.option("--max-lfs", default=20, show_default=True, type=click.IntRange(min=1), help="Most LFs to write.")
@click.option("--min-precision", type=click.FloatRange(0, 1, min_open=True), default=None,
              help="Floor on each LF's precision lower bound (default: halve the error of guessing its class).")
@click.option("--kinds", default=",".join(_KINDS), show_default=True,
              help="Comma-separated candidate families; 'embedding' needs pip install 'weaklab[embed]'.")
@click.option("--seed", "random_state", default=0, show_default=True, help="Seed (folds, exemplars).")
@click.option("--force", is_flag=True, help="Overwrite an existing generated module (it may hold your edits).")
@project_option
@json_option
@handled
def generate(gold_file: Path, max_lfs: int, min_precision: float | None, kinds: str, random_state: int,
             force: bool, project_dir: Path, as_json: bool) -> None:
    """Generate labeling functions from the gold labels in GOLD and write them to lfs_generated.py.

    Candidates are discriminative words and phrases, phrase patterns, thresholds
    on numeric columns and a nearest-centroid source on sentence embeddings; each
    is kept when its precision on the gold items (Wilson lower bound) reaches the
    floor, and a diverse subset is chosen. The file is ordinary Python -- one
    template call per LF with its measured precision and coverage -- and
    `weaklab fit` loads it beside the project's own LF module. Edit it freely.
    """
    from ..pipeline.generate import generate_project_lfs

    chosen = tuple(k.strip() for k in kinds.split(",") if k.strip())
    bad = [k for k in chosen if k not in _KINDS]
    if bad or not chosen:
        raise click.BadParameter(f"expected some of {', '.join(_KINDS)}, got {kinds!r}", param_hint="'--kinds'")
    result = generate_project_lfs(project_dir, gold_file, max_lfs=max_lfs, min_precision=min_precision,
                                  kinds=chosen, random_state=random_state, force=force, progress=not as_json)
    summary = result.lfs.summary()
    if as_json:
        echo_json({"path": str(result.path), "n_gold": result.n_gold, "lfs": records(summary)})
        return
    console = make_console()
    from rich.table import Table

    table = Table(title=f"{len(result.lfs)} LFs from {result.n_gold} gold items")
    for column in ("name", "kind", "label", "precision", "lower bound", "support", "coverage"):
        table.add_column(column, justify="left" if column in ("name", "kind") else "right")
    from ..pipeline import load_config

    names = load_config(project_dir).class_names or []
    for info in result.lfs.info:
        named = info.label is not None and 0 <= info.label < len(names)
        label = "all" if info.label is None else (names[info.label] if named else str(info.label))
        table.add_row(info.name, info.kind, label, f"{info.precision:.2f}",
                      f"{info.precision_lower:.2f}", str(info.support), f"{info.coverage:.1%}")
    console.print(table)
    console.print(f"wrote {result.path} -- `weaklab fit` now uses these LFs beside your own; edit or delete "
                  "lines freely")
