"""Parsing Label Studio exports (JSON and JSON_MIN) of single-choice classification projects.

Pure functions over the decoded JSON: every problem raises
:class:`~weaklab.errors.ValidationError` naming the place in the file
(``tasks.json[3].annotations[0].result``), what was expected and what arrived.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from ..._core.validation import fail

__all__ = ["ID_FIELD", "FROM_NAME", "READ_FORMATS", "STATUSES", "annotator_name", "parse_label_studio_export",
           "check_class_names", "check_field", "choices_config", "read_export"]

#: Key of the weaklab item id inside a task's ``data`` (and a JSON_MIN record).
ID_FIELD = "item_id"
#: Name of the ``<Choices>`` control in the exported labeling config.
FROM_NAME = "label"

#: JSON_MIN keys Label Studio adds next to the data fields and the answers.
_MIN_RESERVED = frozenset({"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time",
                           "drafts", "predictions", "meta", "inner_id", "total_annotations",
                           "cancelled_annotations", "total_predictions"})
#: What a parsed row records: an answer, a skipped (cancelled) task, an annotation submitted without a
#: choice, or a task nobody annotated (the snapshot and "all tasks" exports list those too).
STATUSES = ("answer", "skipped", "no_choice", "unanswered")
_COLUMNS = ["item_id", "status", "annotator", "label", "choice", "annotation_id", "created_at", "updated_at"]


def check_class_names(class_names: Any, *, name: str = "class_names", what: str = "class names") -> list[str]:
    """Check a non-empty sequence of unique, non-empty names (``what``, the parameter ``name``) and return a list."""
    if isinstance(class_names, str) or not isinstance(class_names, Sequence) or not class_names:
        raise fail(name, f"a non-empty sequence of {what}", class_names)
    names = list(class_names)
    if not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
        raise fail(name, "unique non-empty strings", got_text=repr(names))
    return names


def parse_label_studio_export(data: Any, *, class_names: Sequence[str], id_field: str = ID_FIELD,
                              from_name: str | None = None, source: str = "data") -> pd.DataFrame:
    """Every task and annotation of a Label Studio export (JSON or JSON_MIN), with its status.

    Parameters
    ----------
    data : list
        The decoded export: a list of tasks (``{"data": ..., "annotations":
        [...]}``, Label Studio's JSON export) or of flat records (JSON_MIN:
        the data fields, ``"<from_name>": "<choice>"``, ``"annotator"``,
        ``"annotation_id"``, ``"created_at"``, ...). The format is recognised per record.
    class_names : sequence of str
        The choices, in class-id order (choice ``class_names[i]`` is class ``i``).
    id_field : str, default="item_id"
        Key of the weaklab item id in a task's ``data`` (JSON) or in a record (JSON_MIN).
    from_name : str, optional
        Name of the ``<Choices>`` control to read. By default any single
        ``choices`` result (JSON), or the one field holding a class name (JSON_MIN).
    source : str, default="data"
        What ``data`` is (a file name), used in error messages.

    Returns
    -------
    pandas.DataFrame
        One row per annotation, plus one per task without annotations, in
        file order: ``item_id`` (as in the file), ``status`` (one of
        :data:`STATUSES`: ``"answer"``; ``"skipped"`` for a cancelled
        annotation; ``"no_choice"`` for an annotation submitted with no
        choice; ``"unanswered"`` for a task nobody annotated, which the
        snapshot and "all tasks" exports list), ``annotator`` (str, or None
        when the export does not say), ``label`` (int class id, -1 unless an
        answer), ``choice`` (the class name, or None), ``annotation_id``
        (Label Studio's id of the annotation, or None), ``created_at`` and
        ``updated_at`` (UTC ``datetime`` without tzinfo, or None).

    Raises
    ------
    ValidationError
        Malformed structure, a missing item id, a choice that is not a class
        name, or several choices in one answer.

    Examples
    --------
    >>> export = [{"item_id": 7, "label": "SPAM", "annotator": 1, "annotation_id": 3},
    ...           {"item_id": 8, "annotator": None, "annotation_id": None}]
    >>> frame = parse_label_studio_export(export, class_names=["HAM", "SPAM"])
    >>> frame["status"].tolist(), frame["label"].tolist(), frame["choice"].tolist()
    (['answer', 'unanswered'], [1, -1], ['SPAM', None])
    """
    names = check_class_names(class_names)
    if not isinstance(data, list):
        raise fail(source, "a JSON list of Label Studio tasks (a JSON or JSON_MIN export)", data)
    rows: list[tuple[Any, ...]] = []
    min_key = from_name if from_name is not None else _min_choice_key(data, names, id_field, source)
    for i, record in enumerate(data):
        where = f"{source}[{i}]"
        if not isinstance(record, Mapping):
            raise fail(where, "a task object", record)
        if _is_task(record):
            rows.extend(_task_rows(record, where, names, id_field, from_name))
        else:
            rows.extend(_min_rows(record, where, names, id_field, min_key))
    columns = list(zip(*rows)) if rows else [()] * len(_COLUMNS)
    frame = pd.DataFrame({c: pd.Series(list(v), dtype="int64" if c == "label" else object)
                          for c, v in zip(_COLUMNS, columns)})
    return frame


def _row(item: Any, status: str, annotator: str | None = None, label: int = -1, names: list[str] | None = None,
         annotation_id: Any = None, created_at: datetime | None = None,
         updated_at: datetime | None = None) -> tuple[Any, ...]:
    choice = names[label] if names is not None and label >= 0 else None
    return item, status, annotator, label, choice, annotation_id, created_at, updated_at


#: The Label Studio export formats weaklab reads.
READ_FORMATS = "JSON, JSON_MIN"
_OTHER_FORMATS = {".csv": "a CSV export", ".tsv": "a TSV export", ".xml": "an XML (Pascal VOC) export",
                  ".conll": "a CoNLL export", ".zip": "a zipped export (COCO, YOLO, ...)", ".txt": "a text export"}


def read_export(file: Path) -> Any:
    """The decoded JSON of an export file; other formats (CSV, ...) get a message naming the ones read."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail("path", "an existing Label Studio export file", got_text=repr(str(file))) from None
    except (UnicodeDecodeError, OSError) as exc:
        raise fail(str(file), "a readable UTF-8 JSON file", got_text=str(exc)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        kind = _other_format(file, text)
        if kind is not None:
            raise fail(str(file), f"a Label Studio export in a format weaklab reads ({READ_FORMATS})",
                       got_text=f"{kind}, which is not supported: export the project again as JSON or "
                       "JSON_MIN") from None
        raise fail(str(file), f"valid JSON (a Label Studio export in {READ_FORMATS})",
                   got_text=f"a syntax error at line {exc.lineno}: {exc.msg}") from None


def _other_format(file: Path, text: str) -> str | None:
    """What a non-JSON export looks like (None when it looks like broken JSON)."""
    suffix = file.suffix.lower()
    if suffix in _OTHER_FORMATS:
        return _OTHER_FORMATS[suffix]
    if text.lstrip()[:1] in ("[", "{"):
        return None
    first = text.splitlines()[0] if text else ""
    if first.count(",") >= 2:
        return "a CSV export"
    if first.count("\t") >= 2:
        return "a TSV export"
    return "a file that is not JSON"


# ---------------------------------------------------------------------- JSON (full tasks)
def _task_rows(task: Mapping[str, Any], where: str, names: list[str], id_field: str,
               from_name: str | None) -> list[tuple[Any, ...]]:
    data = task.get("data")
    if not isinstance(data, Mapping):
        raise fail(f"{where}.data", "an object with the task's data fields", data)
    item = _item_id(data, id_field, f"{where}.data")
    key = "annotations" if "annotations" in task else "completions"  # "completions": Label Studio < 1.0
    answers = task.get(key, [])
    if not isinstance(answers, list):
        raise fail(f"{where}.{key}", "a list of annotations", answers)
    if not answers:
        return [_row(item, "unanswered")]
    rows = []
    for j, answer in enumerate(answers):
        at = f"{where}.{key}[{j}]"
        if not isinstance(answer, Mapping):
            raise fail(at, "an annotation object", answer)
        who = annotator_name(answer.get("completed_by"), f"{at}.completed_by")
        times = _times(answer, at)
        ident = _annotation_id(answer.get("id"), f"{at}.id")
        if answer.get("was_cancelled") is True:
            rows.append(_row(item, "skipped", who, -1, None, ident, *times))
            continue
        label = _result_label(answer.get("result"), f"{at}.result", names, from_name)
        status = "no_choice" if label is None else "answer"
        rows.append(_row(item, status, who, -1 if label is None else label, names, ident, *times))
    return rows


def _result_label(result: Any, at: str, names: list[str], from_name: str | None) -> int | None:
    if not isinstance(result, list):
        raise fail(at, "a list of result regions", result)
    found = []
    for r, region in enumerate(result):
        if not isinstance(region, Mapping):
            raise fail(f"{at}[{r}]", "a result object", region)
        if region.get("type") == "choices" and (from_name is None or region.get("from_name") == from_name):
            found.append((r, region))
    if not found:
        return None
    if len(found) > 1:
        controls = sorted({str(region.get("from_name")) for _, region in found})
        raise fail(at, "one 'choices' result (pass from_name= to pick the control)",
                   got_text=f"{len(found)} choices results from {controls}")
    r, region = found[0]
    value = region.get("value")
    if not isinstance(value, Mapping) or "choices" not in value:
        raise fail(f"{at}[{r}].value", "an object with 'choices'", value)
    return _choices_label(value["choices"], f"{at}[{r}].value.choices", names)


# ---------------------------------------------------------------------- JSON_MIN (flat records)
def _is_task(record: Mapping[str, Any]) -> bool:
    return "data" in record or "annotations" in record or "completions" in record


def _annotated(record: Mapping[str, Any]) -> bool:
    return record.get("annotator") is not None or record.get("annotation_id") is not None


def _min_choice_key(data: list[Any], names: list[str], id_field: str, source: str) -> str | None:
    """The one JSON_MIN field that holds the chosen class, found over the whole file (None: no JSON_MIN answers)."""
    records = [r for r in data if isinstance(r, Mapping) and not _is_task(r)]
    keys: set[str] = set()
    for i, record in enumerate(records):
        key = _choice_key(record, f"{source}[{i}]", names, id_field)
        if key is not None:
            keys.add(key)
    if len(keys) > 1:
        raise fail(source, "one field holding the chosen class (pass from_name= to name it)",
                   got_text=f"several: {sorted(keys)}")
    if not keys and any(_annotated(r) for r in records):
        raise fail(source, f"a field holding the chosen class (one of {names}) in the annotated records",
                   got_text="none in any record (pass from_name= to name the control, or check the class names)")
    return next(iter(keys), None)


def _min_rows(record: Mapping[str, Any], where: str, names: list[str], id_field: str,
              key: str | None) -> list[tuple[Any, ...]]:
    item = _item_id(record, id_field, where)
    who = annotator_name(record.get("annotator"), f"{where}.annotator")
    ident = _annotation_id(record.get("annotation_id"), f"{where}.annotation_id")
    times = _times(record, where)
    if key is None or key not in record or record[key] is None:
        if who is None and ident is None:
            return [_row(item, "unanswered")]  # a task nobody annotated yet (snapshot / all-tasks exports)
        return [_row(item, "no_choice", who, -1, None, ident, *times)]  # submitted without a choice
    value = record[key]
    at = f"{where}.{key}"
    if isinstance(value, Mapping):
        if "choices" not in value:
            raise fail(at, "a class name or {'choices': [name]}", value)
        value = value["choices"]
    if isinstance(value, list) and not value:
        return [_row(item, "no_choice", who, -1, None, ident, *times)]
    label = _choices_label([value] if isinstance(value, str) else value, at, names)
    return [_row(item, "answer", who, label, names, ident, *times)]


def _choice_key(record: Mapping[str, Any], where: str, names: list[str], id_field: str) -> str | None:
    keys = [k for k, v in record.items()
            if k not in _MIN_RESERVED and k != id_field and _looks_like_choice(v, names)]
    if len(keys) > 1:
        raise fail(where, "one field holding the chosen class (pass from_name= to name it)",
                   got_text=f"several: {sorted(keys)}")
    return keys[0] if keys else None


def _looks_like_choice(value: Any, names: list[str]) -> bool:
    if isinstance(value, Mapping):
        return "choices" in value
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, str) and v in names for v in value)
    return isinstance(value, str) and value in names


# ---------------------------------------------------------------------- fields
def _choices_label(choices: Any, at: str, names: list[str]) -> int:
    if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], str):
        raise fail(at, "exactly one chosen class name (a single-choice project)", got_text=_short(choices))
    if choices[0] not in names:
        raise fail(at, f"one of the classes {names}", choices[0])
    return names.index(choices[0])


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _item_id(mapping: Mapping[str, Any], id_field: str, where: str) -> Any:
    if id_field not in mapping:
        raise fail(f"{where}.{id_field}", "the weaklab item id (as written by export_label_studio)",
                   got_text="no such field")
    value = mapping[id_field]
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise fail(f"{where}.{id_field}", "an integer or string item id", value)
    return value


def annotator_name(value: Any, at: str) -> str | None:
    """The annotator of a Label Studio answer as text: a user id, email, or a user object's email/username/id.

    ``at`` names the field in errors. None when the export gives no annotator.

    Examples
    --------
    >>> annotator_name({"id": 3, "email": "ada@example.org"}, "completed_by"), annotator_name(7, "annotator")
    ('ada@example.org', '7')
    """
    if value is None:
        return None
    if isinstance(value, Mapping):  # newer exports: {"id": 1, "email": "...", ...}
        for key in ("email", "username", "id"):
            if value.get(key) not in (None, ""):
                return str(value[key])
        raise fail(at, "a user with an email, username or id", value)
    if isinstance(value, bool) or not isinstance(value, (int, str)) or value == "":
        raise fail(at, "a user id, email or user object", value)
    return str(value)


def _annotation_id(value: Any, at: str) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or value == "":
        raise fail(at, "Label Studio's annotation id (an integer or string)", value)
    return value


def _times(record: Mapping[str, Any], at: str) -> tuple[datetime | None, datetime | None]:
    return _time(record.get("created_at"), f"{at}.created_at"), _time(record.get("updated_at"), f"{at}.updated_at")


def _time(value: Any, at: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise fail(at, "an ISO 8601 time string", value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise fail(at, "an ISO 8601 time string", value) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def check_field(name: str, value: Any) -> str:
    """``value`` when it is a non-empty string (a task data key), else a :class:`ValidationError` naming ``name``."""
    if not isinstance(value, str) or not value:
        raise fail(name, "a non-empty string", value)
    return value


def choices_config(names: Sequence[str], field: str, *, from_name: str, to_name: str, choice: str) -> str:
    """The labeling config XML of a text project with one ``Choices`` tag (``choice``: "single" or "multiple").

    Examples
    --------
    >>> print(choices_config(["a"], "text", from_name="c", to_name="t", choice="single"))
    <View>
      <Text name="t" value="$text"/>
      <Choices name="c" toName="t" choice="single" showInline="true">
        <Choice value="a"/>
      </Choices>
    </View>
    <BLANKLINE>
    """
    choices = "\n".join(f'    <Choice value="{escape(n, quote=True)}"/>' for n in names)
    return (f'<View>\n  <Text name="{to_name}" value="${escape(field, quote=True)}"/>\n'
            f'  <Choices name="{from_name}" toName="{to_name}" choice="{choice}" showInline="true">\n'
            f"{choices}\n  </Choices>\n</View>\n")
