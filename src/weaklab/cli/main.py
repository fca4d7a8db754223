"""Entry point of the ``weaklab`` command."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import ClassVar

import click

from ..errors import WeaklabError
from ..store.paths import DEFAULT_PATH
from . import (
    answers_cmds,
    doctor_cmd,
    export_cmd,
    generate_cmd,
    predict_cmd,
    project_cmds,
    serve,
    store_cmds,
    suggest_cmd,
)


class WeaklabGroup(click.Group):
    """The ``weaklab`` command group; it also answers to other spellings of a few commands.

    The aliases are not listed by ``--help`` (one name per command there).
    ``analyse`` runs ``analyze``: the pipeline step, the guides and the help
    text spell it the British way, so a reader types it so.
    """

    #: Another spelling -> the command it runs.
    ALIASES: ClassVar[dict[str, str]] = {"analyse": "analyze"}

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command called ``cmd_name``, or the one it is an alias of."""
        return super().get_command(ctx, self.ALIASES.get(cmd_name, cmd_name))


@click.group(cls=WeaklabGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="weaklab", prog_name="weaklab")
def main() -> None:
    """weaklab: turn weak, noisy sources of labels into trustworthy training data.

    \b
    Start here:
      weaklab demo                 the whole flow on bundled YouTube comments (store in ./.weaklab/)
      weaklab init myproject       a project folder: weaklab.toml, example LFs, example data
      cd myproject && weaklab fit  apply the LFs, analyse them, fit the label model (one recorded run)
      weaklab runs / explain ID / diff A B / alerts / report

    Listing commands take --json. Exit codes: 0 success; 1 an error weaklab
    explains in one line (bad config or data, unknown item or run, no store...);
    2 a bad command line (unknown option, missing argument).
    """


@main.command()
@click.option("--seed", "random_state", default=0, show_default=True, help="Seed of splits and tie-breaks.")
@click.option("--n-jobs", default=1, show_default=True, help="Processes for row-wise labeling functions.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON instead of tables.")
@click.option("--store", "store_path", type=click.Path(dir_okay=False, path_type=Path),
              default=DEFAULT_PATH, show_default=True,
              help="The store the run is recorded in.")
def demo(random_state: int, n_jobs: int, as_json: bool, store_path: Path) -> None:
    """Weak supervision end to end on the bundled YouTube spam comments.

    Applies eleven labeling functions of several kinds, prints the source summary and
    timings, builds majority-vote soft labels, trains a TF-IDF + logistic-regression
    model on them and compares it with the same model trained on gold labels.
    Each invocation is recorded as one run in the store (default ./.weaklab/), so
    `weaklab runs`, `weaklab explain COMMENT_ID` and `weaklab report` work afterwards.
    """
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from ..demo import SpamDemo
    from ._common import make_console
    from .render import demo_json, render_demo, render_next_steps

    console = make_console(stderr=as_json)
    try:
        runner = SpamDemo(random_state=random_state, n_jobs=n_jobs, store=store_path)
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
        render_next_steps(console, runner.result)


for _command in (project_cmds.init, project_cmds.apply, project_cmds.analyze, project_cmds.fit,
                 project_cmds.train, project_cmds.issues, project_cmds.query, store_cmds.runs, store_cmds.explain,
                 store_cmds.diff, store_cmds.alerts, store_cmds.report, store_cmds.annotate):
    main.add_command(_command)
main.add_command(serve.serve)
main.add_command(doctor_cmd.doctor)
main.add_command(generate_cmd.generate)
main.add_command(suggest_cmd.suggest)
main.add_command(export_cmd.export)
main.add_command(predict_cmd.predict)
store_cmds.annotate.add_command(answers_cmds.disagreements)
store_cmds.annotate.add_command(answers_cmds.adjudicate)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
