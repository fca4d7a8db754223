"""Label Studio exchange of label sets (multi-label runs): ``Choices`` with ``choice="multiple"`` out and back.

Out, each task carries the item's text and id, and a prediction that ticks
the labels whose ``P(applies)`` is at least 0.5. Back, each annotation's
ticked choices are the labels the person says apply; an annotation submitted
with none ticked says none applies (as the dashboard's review form), and a
skipped (cancelled) one is a skip. Both JSON exports (tasks with
``annotations[].result[]``) and JSON_MIN exports (flat records; Label Studio
writes one ticked choice as a string and several as ``{"choices": [...]}``)
are read. The labeling config::

    <View>
      <Text name="text" value="$text"/>
      <Choices name="labels" toName="text" choice="multiple" showInline="true">
        <Choice value="sport"/><Choice value="politics"/>
      </Choices>
    </View>

Everything here is a pure function over JSON-able values; errors name the
place in the export, what was expected and what arrived.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._core.validation import fail
from ._parse import ID_FIELD, annotator_name, check_class_names, check_field, choices_config

__all__ = ["MULTILABEL_FROM_NAME", "LabelSetAnnotation", "multilabel_labeling_config",
           "to_label_studio_multilabel_tasks", "parse_label_studio_multilabel"]

#: The ``<Choices>`` control of a multi-label project (its ``from_name`` in results).
MULTILABEL_FROM_NAME = "labels"
_TO_NAME = "text"


@dataclass(frozen=True)
class LabelSetAnnotation:
    """One annotation of a multi-label export: the item, who, the labels ticked, and answer or skip.

    Attributes
    ----------
    item_id : int or str
        The weaklab item id the task carried.
    annotator : str or None
        Label Studio's user (id, e-mail or name), None when the export does not say.
    labels : tuple of str
        The ticked labels, in the run's label order (empty: none applies).
    status : {"answer", "skipped"}
    annotation_id : int or str, optional
        Label Studio's annotation id.

    Examples
    --------
    >>> LabelSetAnnotation("a1", "1", ("sport",), "answer").labels
    ('sport',)
    """

    item_id: Any
    annotator: str | None
    labels: tuple[str, ...]
    status: str
    annotation_id: Any = None


def multilabel_labeling_config(label_names: Sequence[str], *, text_field: str = "text") -> str:
    """The labeling config XML of a multi-label text project (``Choices`` with ``choice="multiple"``).

    Parameters
    ----------
    label_names : sequence of str
        The choices, in the run's label order.
    text_field : str, default="text"
        The task data key holding the text.

    Returns
    -------
    str

    Examples
    --------
    >>> print(multilabel_labeling_config(["sport", "tech"]))
    <View>
      <Text name="text" value="$text"/>
      <Choices name="labels" toName="text" choice="multiple" showInline="true">
        <Choice value="sport"/>
        <Choice value="tech"/>
      </Choices>
    </View>
    <BLANKLINE>
    """
    names = check_class_names(label_names, name="label_names", what="label names")
    return choices_config(names, check_field("text_field", text_field), from_name=MULTILABEL_FROM_NAME,
                          to_name=_TO_NAME, choice="multiple")


def to_label_studio_multilabel_tasks(texts: Sequence[str], proba: Any, *, item_ids: Sequence[Any],
                                     label_names: Sequence[str], text_field: str = "text",
                                     model_version: str = "weaklab", threshold: float = 0.5) -> list[dict[str, Any]]:
    """Label Studio tasks of label-set items, each with a prediction ticking the labels at ``threshold`` or more.

    The prediction's score is the mean over labels of ``max(p, 1 - p)`` (how
    sure the label model is of the whole set).

    Parameters
    ----------
    texts : sequence of str
    proba : array-like of shape (n, K)
        ``P(label applies)`` of each text and label.
    item_ids : sequence of int or str
        The items' ids (written as ``data.item_id``).
    label_names : sequence of str
    text_field : str, default="text"
    model_version : str, default="weaklab"
    threshold : float, default=0.5
        A label is ticked at this probability or more.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> task = to_label_studio_multilabel_tasks(["goal and vote"], [[0.9, 0.6, 0.1]], item_ids=["a1"],
    ...                                         label_names=["sport", "politics", "tech"])[0]
    >>> task["data"], task["predictions"][0]["result"][0]["value"]
    ({'text': 'goal and vote', 'item_id': 'a1'}, {'choices': ['sport', 'politics']})
    """
    names = check_class_names(label_names, name="label_names", what="label names")
    field = check_field("text_field", text_field)
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape != (len(texts), len(names)) or len(item_ids) != len(texts):
        raise fail("proba", f"an ({len(texts)}, {len(names)}) array (one row per text, one column per label) "
                   f"and {len(texts)} item ids", got_text=f"shape {p.shape} and {len(item_ids)} ids")
    tasks = []
    for text, item, row in zip(texts, item_ids, p):
        ticked = [n for n, v in zip(names, row) if v >= threshold]
        region = {"from_name": MULTILABEL_FROM_NAME, "to_name": _TO_NAME, "type": "choices",
                  "value": {"choices": ticked}}
        score = float(np.mean(np.maximum(row, 1.0 - row))) if len(row) else 1.0
        tasks.append({"data": {field: str(text), ID_FIELD: _json_id(item)},
                      "predictions": [{"model_version": model_version, "score": score,
                                       "result": [region] if ticked else []}]})
    return tasks


def parse_label_studio_multilabel(data: Any, *, label_names: Sequence[str], from_name: str | None = None,
                                  source: str = "export") -> list[LabelSetAnnotation]:
    """Every annotation of a multi-label Label Studio export (JSON or JSON_MIN), in file order.

    Tasks nobody annotated are left out. A ticked choice that is not one of
    ``label_names`` is an error naming its place in the export.

    Parameters
    ----------
    data : list
        The decoded export: tasks (JSON) or flat records (JSON_MIN).
    label_names : sequence of str
        The run's labels.
    from_name : str, optional
        The ``<Choices>`` control to read; default :data:`MULTILABEL_FROM_NAME`.
    source : str, default="export"
        What ``data`` is (a file name), used in error messages.

    Returns
    -------
    list of LabelSetAnnotation

    Examples
    --------
    >>> tasks = to_label_studio_multilabel_tasks(["t"], [[0.9, 0.2]], item_ids=[7], label_names=["a", "b"])
    >>> tasks[0]["annotations"] = [{"completed_by": 1, "result": [{"from_name": "labels", "to_name": "text",
    ...     "type": "choices", "value": {"choices": ["a", "b"]}}]}, {"completed_by": 3, "was_cancelled": True}]
    >>> [(a.annotator, a.labels, a.status) for a in parse_label_studio_multilabel(tasks, label_names=["a", "b"])]
    [('1', ('a', 'b'), 'answer'), ('3', (), 'skipped')]
    >>> parse_label_studio_multilabel([{"item_id": 7, "labels": {"choices": ["b", "a"]}, "annotator": 1},
    ...                                {"item_id": 8, "labels": "b", "annotator": 1}], label_names=["a", "b"])[1].labels
    ('b',)
    """
    names = check_class_names(label_names, name="label_names", what="label names")
    control = MULTILABEL_FROM_NAME if from_name is None else check_field("from_name", from_name)
    if not isinstance(data, list):
        raise fail(source, "a JSON list of Label Studio tasks (a JSON or JSON_MIN export)", data)
    out: list[LabelSetAnnotation] = []
    for i, record in enumerate(data):
        where = f"{source}[{i}]"
        if not isinstance(record, Mapping):
            raise fail(where, "a task object", record)
        if isinstance(record.get("data"), Mapping):
            out.extend(_task_annotations(record, where, names, control))
        else:
            out.extend(_min_annotation(record, where, names, control))
    return out


# ---------------------------------------------------------------------- helpers
def _task_annotations(task: Mapping[str, Any], where: str, names: list[str], control: str) -> list[LabelSetAnnotation]:
    item = _item_id(task["data"], f"{where}.data")
    annotations = task.get("annotations", [])
    if not isinstance(annotations, list):
        raise fail(f"{where}.annotations", "a list of annotations", annotations)
    out = []
    for a, ann in enumerate(annotations):
        at = f"{where}.annotations[{a}]"
        if not isinstance(ann, Mapping):
            raise fail(at, "an annotation object", ann)
        user = annotator_name(ann.get("completed_by"), f"{at}.completed_by")
        if ann.get("was_cancelled"):
            out.append(LabelSetAnnotation(item, user, (), "skipped", ann.get("id")))
            continue
        result = ann.get("result", [])
        if not isinstance(result, list):
            raise fail(f"{at}.result", "a list of results", result)
        ticked: list[str] = []
        for k, region in enumerate(result):
            if isinstance(region, Mapping) and region.get("from_name") == control:
                value = region.get("value")
                choices = value.get("choices") if isinstance(value, Mapping) else None
                ticked += _labels(choices, f"{at}.result[{k}].value.choices", names)
        out.append(LabelSetAnnotation(item, user, _ordered(ticked, names), "answer", ann.get("id")))
    return out


def _min_annotation(record: Mapping[str, Any], where: str, names: list[str], control: str) -> list[LabelSetAnnotation]:
    if record.get("annotation_id") is None and control not in record:
        return []  # a task nobody annotated (snapshot exports list them)
    item = _item_id(record, where)
    value = record.get(control, [])
    choices = value.get("choices") if isinstance(value, Mapping) else ([value] if isinstance(value, str) else value)
    ticked = _labels(choices, f"{where}.{control}", names)
    user = annotator_name(record.get("annotator"), f"{where}.annotator")
    return [LabelSetAnnotation(item, user, _ordered(ticked, names), "answer", record.get("annotation_id"))]


def _labels(choices: Any, at: str, names: list[str]) -> list[str]:
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        raise fail(at, "a list of label names", choices)
    unknown = [c for c in choices if c not in names]
    if unknown:
        raise fail(at, f"label names of {names}", got_text=repr(unknown[0]))
    return list(choices)


def _ordered(ticked: list[str], names: list[str]) -> tuple[str, ...]:
    return tuple(n for n in names if n in set(ticked))


def _item_id(mapping: Mapping[str, Any], where: str) -> Any:
    value = mapping.get(ID_FIELD)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise fail(f"{where}.{ID_FIELD}", "the weaklab item id (as `weaklab annotate export` wrote it)", value)
    return value



def _json_id(value: Any) -> Any:
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise fail("item_ids", "integer or string ids", value)
    return value
