"""``weaklab generate``: induce labeling functions from a gold file and write them as an editable LF module.

The module (``lfs_generated.py`` beside ``weaklab.toml`` unless ``[lfs].generated``
names another file) holds one template call per LF, each with its measured
precision and coverage as a comment. :func:`~weaklab.pipeline.loading.load_lfs`
loads it beside the project's own ``[lfs].module`` whenever the file exists, so
``weaklab fit`` uses the generated LFs next to the hand-written ones.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ValidationError
from ..labeling import GeneratedLFs, generate_lfs
from .config import ProjectConfig, load_config
from .loading import generated_lfs_path, gold_class_id, item_ids_of, load_data, refused_gold, rename_hint

__all__ = ["GenerateResult", "generate_project_lfs", "read_gold_file", "render_lfs_module"]


@dataclass(frozen=True)
class GenerateResult:
    """What ``weaklab generate`` did: the file written, the LFs and their measured figures.

    Attributes
    ----------
    path : Path
        The LF module written.
    lfs : GeneratedLFs
        The generated LFs (``.summary()`` for their precision and coverage).
    n_gold : int
        Gold items read from the gold file.
    """

    path: Path
    lfs: GeneratedLFs
    n_gold: int


def read_gold_file(path: Path, config: ProjectConfig, ids: np.ndarray, n_classes: int | None) -> np.ndarray:
    """Gold class ids aligned with the project's items (-1 for items the file does not name).

    The file is a CSV (TSV for ``.tsv``) with a column ``id`` (or the
    project's ``[data].id_column``) and a column ``label`` (or the project's
    ``[data].gold_column``) holding gold as the data file's gold column does
    (:func:`~weaklab.pipeline.loading.gold_class_id`: class names of
    ``[labels].classes``, old names ``[labels.rename]`` maps, class ids;
    blank or -1 = unknown).

    Raises
    ------
    ValidationError
        The file cannot be read, lacks those columns, names an unknown item,
        names an item twice, or holds an unknown label.
    """
    try:
        frame = pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",", dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"--gold: expected a readable CSV file, got {path} ({exc})") from None
    id_names = ("id", config.get("data", "id_column"))
    label_names = ("label", config.get("data", "gold_column"))
    id_col = next((c for c in id_names if c and c in frame.columns), None)
    label_col = next((c for c in label_names if c and c in frame.columns), None)
    if id_col is None or label_col is None:
        accepted = " and ".join(" or ".join(repr(c) for c in dict.fromkeys(n) if c) for n in (id_names, label_names))
        raise ValidationError(f"--gold: expected columns {accepted} in {path}, got columns {list(frame.columns)}")
    position = {str(v): i for i, v in enumerate(ids.tolist())}
    gold = np.full(len(ids), -1, dtype=np.int64)
    seen: set[int] = set()
    for row, (item, label) in enumerate(zip(frame[id_col].tolist(), frame[label_col].tolist())):
        where = f"--gold: {path.name} row {row + 2}"
        if item not in position:
            raise ValidationError(f"{where}: expected an item id of the project's data, got {item!r}")
        at = position[item]
        if at in seen:
            raise ValidationError(f"{where}: expected each item once, got {item!r} again")
        seen.add(at)
        gold[at] = _class_id(label, config, n_classes, where)
    return gold


def _class_id(label: str, config: ProjectConfig, n_classes: int | None, where: str) -> int:
    """The class id of a gold file's label, read as the run reads its gold column (blank or -1: unknown)."""
    found = gold_class_id(label, config, n_classes)
    if found is None:
        raise ValidationError(f"{where}: {refused_gold(label, config, n_classes)}{rename_hint(label, config)}")
    return found


def generate_project_lfs(
    project_dir: Any = ".",
    gold_file: Any = None,
    *,
    max_lfs: int = 20,
    min_precision: float | None = None,
    kinds: tuple[str, ...] = ("keyword", "regex", "threshold", "embedding"),
    random_state: int = 0,
    force: bool = False,
    progress: bool = True,
) -> GenerateResult:
    """Generate LFs for a project from a gold file and write them to its generated-LF module.

    Parameters
    ----------
    project_dir : str or Path, default="."
        The project folder (holding ``weaklab.toml``).
    gold_file : str or Path
        CSV with ``id`` and ``label`` columns (see :func:`read_gold_file`).
    max_lfs, min_precision, kinds, random_state
        As in :func:`weaklab.labeling.generate_lfs`.
    force : bool, default=False
        Overwrite an existing generated module (it may hold your edits).
    progress : bool, default=True
        Progress bar on interactive terminals.

    Returns
    -------
    GenerateResult

    Raises
    ------
    ValidationError
        Bad project, gold file or parameters, or the module exists and
        ``force`` is False.

    Examples
    --------
    >>> from weaklab.pipeline.generate import generate_project_lfs
    >>> result = generate_project_lfs("myproject", "myproject/gold.csv", max_lfs=10)  # doctest: +SKIP
    >>> print(result.path.read_text())  # doctest: +SKIP
    """
    config = load_config(project_dir)
    from .multilabel import refuse_multilabel_project

    refuse_multilabel_project(config, "generate")
    if gold_file is None:
        raise ValidationError("--gold: expected a CSV file of gold labels (columns id, label), got nothing")
    target = generated_lfs_path(config)
    if target.exists() and not force:
        raise ValidationError(f"{target.name}: expected no generated LF module yet (it may hold your edits), "
                              "got an existing file; pass --force to overwrite it")
    frame = load_data(config)
    ids = item_ids_of(config, frame)
    names = config.class_names
    gold = read_gold_file(Path(gold_file), config, ids, len(names) if names else None)
    field = config.get("data", "text_field") or "text"
    skip = {config.get("data", k) for k in ("id_column", "gold_column", "split_column")} | {field}
    columns = [str(c) for c in frame.columns if str(c) not in skip
               and pd.api.types.is_numeric_dtype(frame[c].dtype) and not pd.api.types.is_bool_dtype(frame[c].dtype)]
    cache = config.root / ".weaklab" / "embeddings"
    lfs = generate_lfs(frame, gold, field=field, max_lfs=max_lfs, min_precision=min_precision,
                       random_state=random_state, kinds=kinds, n_classes=len(names) if names else None,
                       columns=columns, cache_dir=cache, progress=progress)
    n_gold = int((gold >= 0).sum())
    if not lfs:
        raise ValidationError(f"--gold: expected gold items from which some rule reaches the precision floor, got "
                              f"{n_gold} items and no such rule (label more items or lower --min-precision)")
    target.write_text(render_lfs_module(lfs, class_names=names, n_gold=n_gold, gold_name=Path(gold_file).name,
                                        random_state=random_state), encoding="utf-8")
    return GenerateResult(target, lfs, n_gold)


# -------------------------------------------------------------------------------------------- source


def _regex_literal(pattern: str) -> str:
    if '"' not in pattern and "\n" not in pattern and not pattern.endswith("\\"):
        return f'r"{pattern}"'
    return repr(pattern)


def _class(label: Any, names: list[str] | None) -> str:
    """A class as the module writes it: its name when the project names its classes (so editing the class
    list keeps the LF's meaning), else its id."""
    if names and isinstance(label, (int, np.integer)) and 0 <= label < len(names):
        return repr(names[label])
    return repr(label)


def _call(lf: Any, names: list[str] | None) -> str:
    p = lf.params
    name = f"name={lf.name!r}"
    label = _class(p.get("label"), names)
    if lf.template == "keyword_lf":
        return f"keyword_lf({list(p['keywords'])!r}, {label}, field={p['field']!r}, {name})"
    if lf.template == "regex_lf":
        flags = ", flags=re.IGNORECASE" if p["flags"] == re.IGNORECASE else (f", flags={p['flags']}" if p["flags"]
                                                                               else "")
        return f"regex_lf({_regex_literal(p['pattern'])}, {label}, field={p['field']!r}{flags}, {name})"
    if lf.template == "threshold_lf":
        side = f"above={p['above']!r}" if p["above"] is not None else f"below={p['below']!r}"
        return f"threshold_lf({p['field']!r}, {side}, label={label}, {name})"
    if lf.template == "embedding_lf":
        lines = ["embedding_lf("]
        lines.append("        {")
        for c, texts in sorted(p["classes"].items()):
            lines.append(f"            {_class(c, names)}: [")
            lines += [f"                {t!r}," for t in texts]
            lines.append("            ],")
        lines.append("        },")
        lines.append(f"        field={p['field']!r}, margin={p['margin']!r}, min_similarity={p['min_similarity']!r},")
        lines.append(f"        {name}, cache_dir=Path(__file__).parent / '.weaklab' / 'embeddings',")
        lines.append("    )")
        return "\n".join(lines)
    raise ValidationError(f"lfs: expected generated template LFs, got {lf!r}")


def _comment(info: Any, names: list[str] | None) -> str:
    votes = ("every class (nearest centroid)" if info.label is None
             else (names[info.label] if names and info.label < len(names) else f"class {info.label}"))
    how = "cross-validated " if info.label is None else ""
    return (f"    # votes {votes}: {how}precision {info.precision:.2f} on {info.support} gold items "
            f"(95 % lower bound {info.precision_lower:.2f}), coverage {info.coverage:.1%}")


def render_lfs_module(lfs: GeneratedLFs, *, class_names: list[str] | None = None, n_gold: int = 0,
                      gold_name: str = "", random_state: Any = None) -> str:
    """Python source of an LF module defining ``lfs``: one template call per generated LF.

    Each call is preceded by a comment with the LF's measured precision (on
    the gold items, with its lower bound) and coverage (on all items). With
    ``class_names`` the calls vote class names (they keep their meaning when
    the class list is reordered or extended), else class ids.

    Examples
    --------
    >>> import pandas as pd
    >>> from weaklab.labeling import generate_lfs
    >>> from weaklab.pipeline.generate import render_lfs_module
    >>> texts = ["buy now", "nice song"] * 20
    >>> lfs = generate_lfs(pd.DataFrame({"text": texts}), [1, 0] * 20, kinds=("keyword",), max_lfs=1,
    ...                    progress=False)
    >>> print(render_lfs_module(lfs, class_names=["HAM", "SPAM"]).splitlines()[-2])
        keyword_lf(['buy'], 'SPAM', field='text', name='gen_kw_buy'),
    >>> print(render_lfs_module(lfs).splitlines()[-2])
        keyword_lf(['buy'], 1, field='text', name='gen_kw_buy'),
    """
    templates = {lf.template for lf in lfs}
    imports = sorted(t for t in templates if t in {"keyword_lf", "regex_lf", "threshold_lf", "embedding_lf"})
    today = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d")
    out = [
        f'"""Labeling functions generated by `weaklab generate` from {n_gold} gold items'
        + (f" ({gold_name})" if gold_name else "") + f" on {today}"
        + (f", seed {random_state}" if random_state is not None else "") + ".",
        "",
        "weaklab loads this file beside the project's own LF module ([lfs].module): edit it like any LF",
        "module -- change a keyword or a threshold, or delete a line to drop an LF. Precision is measured",
        "on the gold items (in-sample, so optimistic; the lower bound corrects for few items), coverage on",
        "all items. Running `weaklab generate --force` again overwrites this file.",
        '"""',
        "",
    ]
    if "regex_lf" in templates:
        out.append("import re")
    if "embedding_lf" in templates:
        out.append("from pathlib import Path")
    if out[-1] != "":
        out.append("")
    out.append(f"from weaklab.labeling import {', '.join(imports)}" if imports else "")
    out += ["", "lfs = ["]
    for lf, info in zip(lfs, lfs.info):
        out.append(_comment(info, class_names))
        call = _call(lf, class_names)
        out.append(f"    {call},")
    out.append("]")
    return "\n".join(out) + "\n"
