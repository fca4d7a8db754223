"""Entry point of the ``weaklab`` command."""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..errors import WeaklabError
from .render import demo_json, render_demo


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version("weaklab"), prog_name="weaklab")
def main() -> None:
    """weaklab: turn weak, noisy sources of labels into trustworthy training data.

    Run `weaklab demo` to see the whole flow on the bundled YouTube spam comments.
    """


@main.command()
@click.option("--seed", "random_state", default=0, show_default=True, help="Seed of splits and tie-breaks.")
@click.option("--n-jobs", default=1, show_default=True, help="Processes for row-wise labeling functions.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON instead of tables.")
def demo(random_state: int, n_jobs: int, as_json: bool) -> None:
    """Weak supervision end to end on the bundled YouTube spam comments.

    Applies eleven labeling functions of several kinds, prints the source summary and
    timings, builds majority-vote soft labels, trains a TF-IDF + logistic-regression
    model on them and compares it with the same model trained on gold labels.
    """
    from ..pipeline import SpamDemo

    console = Console(stderr=as_json)
    try:
        runner = SpamDemo(random_state=random_state, n_jobs=n_jobs)
        started = time.perf_counter()
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                      console=console, transient=True) as progress:
            steps = list(runner.steps())
            task = progress.add_task("weaklab demo", total=len(steps))
            for description, step in steps:
                progress.update(task, description=description)
                step()
                progress.advance(task)
        total = time.perf_counter() - started
    except WeaklabError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(demo_json(runner.result, total), indent=2))
    else:
        render_demo(console, runner.result, total)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
