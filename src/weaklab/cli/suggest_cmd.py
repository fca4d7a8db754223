"""``weaklab suggest``: rank the sources by the harm they do and suggest repairs (narrow a rule or drop it)."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import echo_json, handled, json_option, make_console, project_option, store_option, store_wait

__all__ = ["suggest"]


@click.command()
@click.option("--run", "run_id", type=int, default=None,
              help="Suggest from this recorded run (it must have run the issues step); default: run the project "
                   "up to issues first, reusing recorded work.")
@project_option
@store_option
@json_option
@handled
def suggest(run_id: int | None, project_dir: Path, store_path: Path | None, as_json: bool) -> None:
    """Rank the sources by harm (weak-label errors they cause net of those they fix) and suggest repairs.

    Errors are the weak labels that the detector judges wrong from the votes, the
    label model and out-of-fold end-model probabilities. A keyword or regex rule
    that causes more errors than it fixes is narrowed: the keyword (or
    alternative) that fires on most of its flagged items is dropped. Other
    harmful sources are suggested for removal.
    """
    from ..pipeline.suggest_run import project_suggestions

    used, suggestions = project_suggestions(project_dir, store_path=store_path, run_id=run_id,
                                            store_timeout=store_wait())
    rows = [r.to_dict() for r in suggestions.repairs]
    if as_json:
        echo_json({"run_id": used, "n_flagged": suggestions.n_flagged, "n_judged": suggestions.n_judged,
                   "repairs": rows})
        return
    from rich.table import Table

    table = Table(title=f"Source repairs (run {used}: {suggestions.n_flagged} of {suggestions.n_judged} "
                        "weak labels flagged)")
    for column in ("source", "caused", "fixed", "harm", "action", "detail"):
        table.add_column(column, justify="right" if column in ("caused", "fixed", "harm") else "left")
    for r in rows:
        table.add_row(str(r["source"]), str(r["caused"]), str(r["fixed"]), str(r["harm"]), r["action"], r["detail"])
    make_console().print(table)
