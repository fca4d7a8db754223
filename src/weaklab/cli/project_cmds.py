"""Commands that run a project's pipeline: init, apply, analyze, fit, train, issues, query."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click

from . import render
from ._common import (
    echo_json,
    handled,
    json_option,
    make_console,
    project_option,
    records,
    store_option,
    store_wait,
)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@click.option("--force", is_flag=True, help="Overwrite existing project files.")
@click.option("--items", "n_items", type=int, default=None,
              help="Example items (default: 600 comments, 3000 images, 400 sentences, 600 table rows or "
                   "600 articles).")
@click.option("--example", type=click.Choice(["spam", "images", "tagging", "crowd", "tabular", "multilabel"]),
              default="spam", show_default=True,
              help="spam: YouTube comments (bundled); images: Fashion-MNIST images with noisy captions; "
                   "tagging: named entities (chemicals, diseases) in generated sentences; crowd: the comments "
                   "answered by simulated crowd workers ([crowd] in weaklab.toml, no LFs); tabular: a generated "
                   "table of machine sensor readings with threshold LFs and the tabular end model; multilabel: "
                   "generated articles with any number of four topics, keyword LFs voting per topic.")
@click.option("--data", "source", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="images: folder of Fashion-MNIST's IDX files (default $WEAKLAB_DATA/fashion_mnist).")
@handled
def init(directory: Path, force: bool, n_items: int | None, example: str, source: Path | None) -> None:
    """Create a project in DIRECTORY: weaklab.toml, example data and an example LF module (lfs.py; a crowd
    project has none: its workers are the sources).

    The default data are comments sampled from the bundled YouTube spam
    collection, with gold labels on a dev split; `--example` picks another
    project: Fashion-MNIST images copied from their IDX files with noisy
    caption metadata (see the project's README.md), generated sentences to
    tag, the comments answered by simulated crowd workers, a generated
    table of machine sensor readings, or generated articles with any number
    of four topics (a multilabel project). The command prints the next one to
    run in that folder (`weaklab fit`; `weaklab train` for the tagging, table
    and multilabel projects).
    """
    if example == "images":
        _init_images(directory, force, n_items, source)
        return
    if example == "tagging":
        _init_tagging(directory, force, n_items)
        return
    if example == "tabular":
        _init_tabular(directory, force, n_items)
        return
    if example == "multilabel":
        _init_multilabel(directory, force, n_items)
        return
    n_items = 600 if n_items is None else n_items
    from ..demo.crowd import init_crowd_project
    from ..demo.scaffold import EXAMPLE_ITEMS, init_project

    if not EXAMPLE_ITEMS[0] <= n_items <= EXAMPLE_ITEMS[1]:
        raise click.BadParameter(f"expected between {EXAMPLE_ITEMS[0]} and {EXAMPLE_ITEMS[1]} comments (the "
                                 f"bundled collection holds {EXAMPLE_ITEMS[1]}), got {n_items}", param_hint="'--items'")
    files = (init_crowd_project if example == "crowd" else init_project)(directory, n_items=n_items, force=force)
    _created(files, directory, "weaklab fit   (then `weaklab runs`, `weaklab explain ITEM_ID`)")


def _init_tagging(directory: Path, force: bool, n_items: int | None) -> None:
    from ..demo.tagging import TAGGING_EXAMPLE_ITEMS, init_tagging_project

    n_items = _example_items(n_items, 400, TAGGING_EXAMPLE_ITEMS, "sentences")
    _created(init_tagging_project(directory, n_items=n_items, force=force), directory,
             "weaklab train   (then `weaklab runs`, `weaklab explain ITEM_ID`, `weaklab serve`)")


def _init_multilabel(directory: Path, force: bool, n_items: int | None) -> None:
    from ..demo.multilabel import MULTILABEL_EXAMPLE_ITEMS, init_multilabel_project

    n_items = _example_items(n_items, 600, MULTILABEL_EXAMPLE_ITEMS, "articles")
    _created(init_multilabel_project(directory, n_items=n_items, force=force), directory,
             "weaklab train   (then `weaklab runs`, `weaklab explain ITEM_ID`, `weaklab export labels.csv`)")


def _init_tabular(directory: Path, force: bool, n_items: int | None) -> None:
    from ..demo.tabular import TABULAR_EXAMPLE_ITEMS, init_tabular_project

    n_items = _example_items(n_items, 600, TABULAR_EXAMPLE_ITEMS, "rows")
    _created(init_tabular_project(directory, n_items=n_items, force=force), directory,
             "weaklab train   (then `weaklab runs`, `weaklab serve` for the review queue, "
             "`weaklab predict new.csv out.csv`)")


def _example_items(n_items: int | None, default: int, bounds: tuple[int, int], unit: str) -> int:
    """``--items`` of an example project: ``default`` when not given, else checked against ``bounds``."""
    n_items = default if n_items is None else n_items
    if not bounds[0] <= n_items <= bounds[1]:
        raise click.BadParameter(f"expected between {bounds[0]} and {bounds[1]} {unit}, got {n_items}",
                                 param_hint="'--items'")
    return n_items


def _created(files: Any, directory: Path, next_step: str) -> None:
    """Echo the files an example project wrote and the command to run next."""
    for file in files:
        click.echo(f"created {file}")
    where = "" if directory == Path(".") else f"cd {directory} && "
    click.echo(f"Next: {where}{next_step}")


def _init_images(directory: Path, force: bool, n_items: int | None, source: Path | None) -> None:
    from ..demo.images import IMAGE_EXAMPLE_ITEMS, init_image_project

    n_items = _example_items(n_items, 3000, IMAGE_EXAMPLE_ITEMS, "images")
    _created(init_image_project(directory, source=source, n_items=n_items, force=force), directory,
             "weaklab apply && weaklab fit && weaklab train   (see README.md)")


def _run(step: str, project_dir: Path, store_path: Path | None, as_json: bool) -> Any:
    """Run the project up to ``step`` with a progress display; print and return the result."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from ..pipeline import Project

    project = Project(project_dir, store_path=store_path, progress=not as_json, store_timeout=store_wait())
    console = make_console(stderr=True)
    plan = list(project.steps(step))
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=console, transient=True, disable=as_json) as progress:
        task = progress.add_task(f"weaklab {step}", total=len(plan))

        def on_step(name: str, description: str) -> None:
            if name != plan[0][0]:
                progress.advance(task)
            progress.update(task, description=description)

        with warnings.catch_warnings(record=True) as caught:  # printed as lines, not as file, line and source
            try:
                result = project.run(step, on_step=on_step)
            except BaseException:
                _print_warnings(console, caught, recorded=())
                raise
        progress.advance(task)
    # the label model's own warnings are printed with its results (and kept with the run)
    _print_warnings(console, caught, recorded=(result.metrics.get("label_model") or {}).get("warnings") or ())
    if as_json:
        echo_json(_result_json(result, project))
    else:
        render.run_result(make_console(), result, step, project.store_path)
    return result


def _print_warnings(console: Any, caught: list[warnings.WarningMessage], recorded: Any) -> None:
    for line in render.warning_lines(caught, skip=recorded):
        console.print(line, highlight=False)


def _result_json(result: Any, project: Any) -> dict[str, Any]:
    return {
        "run_id": result.run_id, "dataset_id": result.dataset_id, "steps": result.steps,
        "reused": result.reused, "metrics": result.metrics, "store": str(project.store_path),
        "sources": None if result.summary is None else records(result.summary.reset_index()),
        "alerts": [a.to_dict() for a in result.alerts],
        "issues": None if result.issues is None else records(result.issues),
        "query": result.query, "item_ids": result.item_ids,
    }


def _step_command(step: str, name: str, summary: str) -> click.Command:
    @click.command(name=name, help=summary)
    @project_option
    @store_option
    @json_option
    @handled
    def command(project_dir: Path, store_path: Path | None, as_json: bool) -> None:
        _run(step, project_dir, store_path, as_json)

    return command


_UNCHANGED = ("Work whose inputs are unchanged is reused from the store: the same data and LF versions "
              "reuse the label matrix, the same matrix, model and gold reuse the label model.")
apply = _step_command("apply", "apply", "Apply the project's labeling functions and record the label matrix as a "
                      f"new run. {_UNCHANGED}")
analyze = _step_command("analyse", "analyze", "Apply the LFs and analyse the sources: coverage, overlap, conflict, "
                        "accuracy on the dev gold; check for alerts.")
fit = _step_command("fit", "fit", "Apply, analyse and fit the label model into soft labels; human annotations "
                    f"in the store are its gold. {_UNCHANGED}")
train = _step_command("train", "train", "Everything up to fit, then train the end model on the soft labels and "
                      "measure it (accuracy, F1, calibration) on the dev gold.")
issues = _step_command("issues", "issues", "Everything up to train, then find and rank items whose weak label "
                       "looks wrong (confident learning on out-of-fold probabilities).")
query = _step_command("query", "query", "Everything up to issues, then list the items a human should label next "
                      "(most uncertain first; see `weaklab annotate export`).")
