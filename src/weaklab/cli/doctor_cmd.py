"""``weaklab doctor``: check a store and its array files; ``--repair`` writes back what can be recomputed."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import echo_json, handled, json_option, project_option, resolve_store, store_option, store_wait


@click.command()
@project_option
@store_option
@click.option("--repair", is_flag=True, help="Write back damaged array files that can be recomputed exactly.")
@click.option("--quick", is_flag=True, help="Check sizes and Parquet footers only (do not read every file whole).")
@json_option
@handled
def doctor(project_dir: Path, store_path: Path | None, repair: bool, quick: bool, as_json: bool) -> None:
    """Check the store: the database file, every array file a record names (missing, cut short, unreadable), and
    whether the data file still holds the gold each run's label model fitted on ([data].fit_gold).

    With --repair, item-id files are rebuilt from the database, vote matrices by applying the
    project's LFs to its data again (when neither changed), label-model states by fitting again,
    and the label model's soft labels by predicting again; each only when the result is exactly
    what was recorded. A run recorded before weaklab kept its fit gold item by item gets it
    recorded, while its data file is unchanged since the run. Exit code 0 when the store is
    healthy (a data file edited since a run is reported, not a fault), 1 when problems remain.
    """
    from ..pipeline.doctor import doctor as run_doctor
    from ..pipeline.doctor import format_report, project_for

    path = store_path if store_path is not None else resolve_store(None, project_dir)
    if not path.is_file():
        raise click.ClickException(f"no weaklab store at {path}: nothing to check (pass --store PATH)")
    project = project_for(project_dir) if repair else None
    report = run_doctor(path, project=project, repair=repair, deep=not quick, timeout=store_wait())
    if as_json:
        echo_json({"store": report.store, "healthy": report.healthy, "store_error": report.store_error,
                   "problems": report.problems, "repaired": report.repaired, "not_repaired": report.not_repaired,
                   "removed_temporary": report.removed_temporary, "fit_gold": report.fit_gold})
    else:
        for line in format_report(report):
            click.echo(line)
    if not report.healthy:
        raise SystemExit(1)
