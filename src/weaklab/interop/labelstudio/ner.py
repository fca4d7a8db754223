"""Label Studio named-entity exchange: token spans out as ``Labels`` regions, human spans back as token spans.

Label Studio marks entities with character offsets into the task's text
(``<Labels>`` over a ``<Text>``); weaklab tags tokens. Out, the tokens are
joined with single spaces (:func:`join_tokens`), each span becomes a region
``{"start": char, "end": char, "text": ..., "labels": [type]}`` and the tokens
travel in the task's ``data`` beside the text, so the way back needs no
tokenizer. Back, each region covers the tokens its characters overlap
(``snap="expand"``, what a person selecting part of a word means) or must match
token boundaries exactly (``snap="strict"``). Both JSON and JSON_MIN exports
are read. The labeling config::

    <View>
      <Labels name="label" toName="text">
        <Label value="Chemical"/><Label value="Disease"/>
      </Labels>
      <Text name="text" value="$text"/>
    </View>

Everything here is a pure function over JSON-able values; errors name the
place in the export (``export[3].annotations[0].result[1]``), what was
expected and what arrived.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from ..._core.validation import fail
from ._parse import check_class_names, check_field

__all__ = [
    "NER_FROM_NAME",
    "NER_SNAPS",
    "NerAnnotation",
    "join_tokens",
    "token_char_offsets",
    "char_to_token_spans",
    "ner_labeling_config",
    "to_label_studio_ner_tasks",
    "parse_label_studio_ner",
]

#: Name of the ``<Labels>`` control of the exported config (the ``from_name`` of its regions).
NER_FROM_NAME = "label"
#: How a region's character offsets map to tokens.
NER_SNAPS = ("expand", "strict")
_TO_NAME = "text"
_TOKENS_FIELD = "tokens"
_ID_FIELD = "item_id"
#: JSON_MIN keys that are not the task's own data.
_MIN_META = frozenset({"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "drafts",
                       "predictions", "meta", "inner_id", "total_annotations", "cancelled_annotations",
                       "total_predictions"})

Span = tuple[int, int, str]


@dataclass(frozen=True)
class NerAnnotation:
    """One person's spans on one item, read from a Label Studio export.

    Attributes
    ----------
    item_id : int or str
        The weaklab item id (``data["item_id"]``; Label Studio's task id where it is missing).
    annotator : str or None
        Label Studio's user (id or e-mail, as the export writes it).
    spans : tuple of (int, int, str)
        Token spans ``(start, end_exclusive, type)``, sorted.
    status : {"answer", "skipped"}
        ``"skipped"`` for a cancelled annotation (no spans).
    annotation_id : int, str or None

    Examples
    --------
    >>> NerAnnotation(7, "1", ((0, 1, "Chem"),), "answer", 3).spans
    ((0, 1, 'Chem'),)
    """

    item_id: Any
    annotator: str | None
    spans: tuple[Span, ...]
    status: str = "answer"
    annotation_id: Any = None


def join_tokens(tokens: Sequence[str]) -> str:
    """The text of a token sequence: tokens joined by single spaces.

    Parameters
    ----------
    tokens : sequence of str
        One item's tokens.

    Returns
    -------
    str
        The text Label Studio shows; span offsets refer to it.

    Examples
    --------
    >>> join_tokens(["take", "aspirin", "."])
    'take aspirin .'
    """
    return " ".join(tokens)


def token_char_offsets(text: str, tokens: Sequence[str], *, where: str = "tokens") -> list[tuple[int, int]]:
    """Character range of each token in ``text``, found left to right (any whitespace between them).

    Parameters
    ----------
    text : str
    tokens : sequence of str
    where : str, default "tokens"
        Name used in error messages.

    Returns
    -------
    list of (int, int)
        ``(start, end_exclusive)`` per token.

    Examples
    --------
    >>> token_char_offsets("take  aspirin.", ["take", "aspirin", "."])
    [(0, 4), (6, 13), (13, 14)]
    """
    out: list[tuple[int, int]] = []
    pos = 0
    for k, tok in enumerate(tokens):
        if not isinstance(tok, str) or not tok:
            raise fail(f"{where}[{k}]", "a non-empty string token", tok)
        start = text.find(tok, pos)
        if start < 0 or text[pos:start].strip():
            raise fail(f"{where}[{k}]", f"token {tok!r} next in the text after character {pos}",
                       got_text=repr(text[pos:pos + 40]))
        out.append((start, start + len(tok)))
        pos = start + len(tok)
    return out


def char_to_token_spans(offsets: Sequence[tuple[int, int]], regions: Sequence[tuple[Any, Any, str]], *,
                        snap: str = "expand", where: str = "regions") -> list[Span]:
    """Token spans of character regions.

    Parameters
    ----------
    offsets : sequence of (int, int)
        Character range of each token (:func:`token_char_offsets`).
    regions : sequence of (int, int, str)
        ``(char_start, char_end_exclusive, type)``.
    snap : {"expand", "strict"}, default "expand"
        ``"expand"``: a region covers every token it overlaps; ``"strict"``: it must start at a token's
        first and end at a token's last character.
    where : str, default "regions"
        Name used in error messages.

    Returns
    -------
    list of (int, int, str)
        Sorted token spans; a region that overlaps no token raises.

    Examples
    --------
    >>> offs = [(0, 4), (5, 12), (13, 14)]
    >>> char_to_token_spans(offs, [(6, 10, "Chem")])
    [(1, 2, 'Chem')]
    >>> char_to_token_spans(offs, [(5, 12, "Chem")], snap="strict")
    [(1, 2, 'Chem')]
    """
    if snap not in NER_SNAPS:
        raise fail("snap", f"one of {list(NER_SNAPS)}", snap)
    starts = [a for a, _ in offsets]
    ends = [b for _, b in offsets]
    out: list[Span] = []
    for r, (a, b, label) in enumerate(regions):
        at = f"{where}[{r}]"
        if not (isinstance(a, int) and isinstance(b, int)) or isinstance(a, bool) or not 0 <= a < b:
            raise fail(at, "character offsets 0 <= start < end", got_text=f"start={a!r}, end={b!r}")
        inside = [k for k, (s, e) in enumerate(offsets) if s < b and e > a]
        if not inside:
            raise fail(at, "a region over at least one token", got_text=f"characters [{a}, {b}) hold no token")
        first, last = inside[0], inside[-1]
        if snap == "strict" and (starts[first] != a or ends[last] != b):
            raise fail(at, "offsets on token boundaries (snap='strict')",
                       got_text=f"[{a}, {b}); nearest tokens span [{starts[first]}, {ends[last]})")
        out.append((first, last + 1, label))
    return sorted(set(out))


def ner_labeling_config(entity_types: Sequence[str], *, text_field: str = "text") -> str:
    """The labeling config XML of a Label Studio NER project (``<Labels>`` over ``<Text>``).

    Parameters
    ----------
    entity_types : sequence of str
    text_field : str, default "text"
        The task data key holding the text.

    Returns
    -------
    str

    Examples
    --------
    >>> print(ner_labeling_config(["Chem"]))
    <View>
      <Labels name="label" toName="text">
        <Label value="Chem"/>
      </Labels>
      <Text name="text" value="$text"/>
    </View>
    <BLANKLINE>
    """
    types = _check_types(entity_types)
    labels = "\n".join(f'    <Label value="{escape(t, quote=True)}"/>' for t in types)
    return (f'<View>\n  <Labels name="{NER_FROM_NAME}" toName="{_TO_NAME}">\n{labels}\n  </Labels>\n'
            f'  <Text name="{_TO_NAME}" value="${escape(check_field("text_field", text_field), quote=True)}"/>\n'
            "</View>\n")


def to_label_studio_ner_tasks(tokens: Sequence[Sequence[str]], spans: Sequence[Sequence[Span]] | None = None, *,
                              item_ids: Sequence[Any] | None = None, scores: Sequence[float] | None = None,
                              entity_types: Sequence[str] | None = None, text_field: str = "text",
                              model_version: str = "weaklab") -> list[dict[str, Any]]:
    """Label Studio tasks of tokenised items, with their spans as pre-annotated ``Labels`` regions.

    Parameters
    ----------
    tokens : sequence of sequence of str
        The tokens of each item.
    spans : sequence of list of (int, int, str), optional
        Proposed token spans per item (for example a label model's ``predict_spans``); ``None``: no
        pre-annotations.
    item_ids : sequence of int or str, optional
        Item ids (``data["item_id"]``); default ``0..n-1``.
    scores : sequence of float, optional
        A confidence per item for the prediction's ``score``.
    entity_types : sequence of str, optional
        When given, every span type must be one of them.
    text_field : str, default "text"
    model_version : str, default "weaklab"
        The predictions' model version (Label Studio shows only the project's current one).

    Returns
    -------
    list of dict
        ``{"data": {text_field: text, "tokens": [...], "item_id": id}, "predictions": [...]}`` per item.

    Examples
    --------
    >>> task = to_label_studio_ner_tasks([["take", "aspirin"]], [[(1, 2, "Chem")]], item_ids=["a"])[0]
    >>> task["data"]["text"], task["predictions"][0]["result"][0]["value"]
    ('take aspirin', {'start': 5, 'end': 12, 'text': 'aspirin', 'labels': ['Chem']})
    """
    field = check_field("text_field", text_field)
    n = len(tokens)
    ids = list(range(n)) if item_ids is None else list(item_ids)
    for name, values in (("item_ids", ids), ("spans", spans), ("scores", scores)):
        if values is not None and len(values) != n:
            raise fail(name, f"one entry per item ({n})", got_text=f"{len(values)} entries")
    allowed = None if entity_types is None else set(_check_types(entity_types))
    tasks = []
    for i, toks in enumerate(tokens):
        words = [str(t) for t in toks]
        text = join_tokens(words)
        task: dict[str, Any] = {"data": {field: text, _TOKENS_FIELD: words, _ID_FIELD: _json_id(ids[i], i)}}
        if spans is not None:
            offsets = token_char_offsets(text, words, where=f"tokens[{i}]")
            result = [_region(text, offsets, span, allowed, f"spans[{i}][{r}]") for r, span in enumerate(spans[i])]
            prediction: dict[str, Any] = {"model_version": model_version, "result": result}
            if scores is not None:
                prediction["score"] = float(scores[i])
            task["predictions"] = [prediction]
        tasks.append(task)
    return tasks


def parse_label_studio_ner(data: Any, *, entity_types: Sequence[str], text_field: str = "text",
                           from_name: str | None = None, snap: str = "expand",
                           source: str = "export") -> list[NerAnnotation]:
    """Every annotation of a Label Studio NER export (JSON or JSON_MIN) as token spans.

    Parameters
    ----------
    data : list
        The decoded export: tasks (``{"data": ..., "annotations": [...]}``, JSON) or flat records
        (JSON_MIN: the data fields, ``"<from_name>": [regions]``, ``"annotator"``, ...).
    entity_types : sequence of str
        The allowed labels.
    text_field : str, default "text"
    from_name : str, optional
        The ``<Labels>`` control to read; default :data:`NER_FROM_NAME`.
    snap : {"expand", "strict"}, default "expand"
        How character offsets map to tokens (:func:`char_to_token_spans`).
    source : str, default "export"
        What ``data`` is (a file name), used in error messages.

    Returns
    -------
    list of NerAnnotation
        In file order; tasks nobody annotated are left out. Tokens come from ``data["tokens"]``
        (as exported), else from splitting the text on whitespace.

    Examples
    --------
    >>> tasks = to_label_studio_ner_tasks([["take", "aspirin"]], item_ids=[7])
    >>> tasks[0]["annotations"] = [{"completed_by": 1, "result": [{"from_name": "label", "to_name": "text",
    ...     "type": "labels", "value": {"start": 5, "end": 12, "labels": ["Chem"]}}]}]
    >>> parse_label_studio_ner(tasks, entity_types=["Chem"])[0].spans
    ((1, 2, 'Chem'),)
    """
    types = set(_check_types(entity_types))
    control = NER_FROM_NAME if from_name is None else check_field("from_name", from_name)
    if snap not in NER_SNAPS:
        raise fail("snap", f"one of {list(NER_SNAPS)}", snap)
    if not isinstance(data, list):
        raise fail(source, "a JSON list of Label Studio tasks (a JSON or JSON_MIN export)", data)
    out: list[NerAnnotation] = []
    for i, record in enumerate(data):
        where = f"{source}[{i}]"
        if not isinstance(record, Mapping):
            raise fail(where, "a task object", record)
        if "data" in record and isinstance(record.get("data"), Mapping):
            out.extend(_task_annotations(record, where, types, text_field, control, snap))
        else:
            out.extend(_min_annotations(record, where, types, text_field, control, snap))
    return out


# ---------------------------------------------------------------------- helpers

def _task_annotations(task: Mapping[str, Any], where: str, types: set[str], text_field: str, control: str,
                      snap: str) -> list[NerAnnotation]:
    data = task["data"]
    item = data.get(_ID_FIELD, task.get("id"))
    offsets = _offsets(data, f"{where}.data", text_field)
    annotations = task.get("annotations", [])
    if not isinstance(annotations, list):
        raise fail(f"{where}.annotations", "a list of annotations", annotations)
    out = []
    for a, ann in enumerate(annotations):
        at = f"{where}.annotations[{a}]"
        if not isinstance(ann, Mapping):
            raise fail(at, "an annotation object", ann)
        user = _user(ann.get("completed_by"))
        if ann.get("was_cancelled"):
            out.append(NerAnnotation(item, user, (), "skipped", ann.get("id")))
            continue
        result = ann.get("result", [])
        if not isinstance(result, list):
            raise fail(f"{at}.result", "a list of regions", result)
        regions = [_region_value(r, f"{at}.result[{k}]", types, control)
                   for k, r in enumerate(result) if _is_labels(r, control)]
        spans = char_to_token_spans(offsets, regions, snap=snap, where=f"{at}.result")
        out.append(NerAnnotation(item, user, tuple(spans), "answer", ann.get("id")))
    return out


def _min_annotations(record: Mapping[str, Any], where: str, types: set[str], text_field: str, control: str,
                     snap: str) -> list[NerAnnotation]:
    if record.get("annotation_id") is None and control not in record:
        return []
    item = record.get(_ID_FIELD, record.get("id"))
    offsets = _offsets(record, where, text_field)
    value = record.get(control, [])
    if not isinstance(value, list):
        raise fail(f"{where}.{control}", "a list of regions", value)
    regions = [_region_value({"value": v}, f"{where}.{control}[{k}]", types, control) for k, v in enumerate(value)]
    spans = char_to_token_spans(offsets, regions, snap=snap, where=f"{where}.{control}")
    return [NerAnnotation(item, _user(record.get("annotator")), tuple(spans), "answer", record.get("annotation_id"))]


def _offsets(data: Mapping[str, Any], where: str, text_field: str) -> list[tuple[int, int]]:
    text = data.get(text_field)
    if not isinstance(text, str):
        raise fail(f"{where}.{text_field}", "the task's text (a string)", text)
    tokens = data.get(_TOKENS_FIELD)
    if tokens is None:
        tokens = text.split()
    elif not isinstance(tokens, list):
        raise fail(f"{where}.{_TOKENS_FIELD}", "a list of tokens", tokens)
    return token_char_offsets(text, tokens, where=f"{where}.{_TOKENS_FIELD}")


def _is_labels(result: Any, control: str) -> bool:
    if not isinstance(result, Mapping) or result.get("type") != "labels":
        return False
    return bool(result.get("from_name", control) == control)


def _region_value(result: Mapping[str, Any], at: str, types: set[str], control: str) -> tuple[Any, Any, str]:
    value = result.get("value")
    if not isinstance(value, Mapping):
        raise fail(f"{at}.value", "a region {'start', 'end', 'labels'}", value)
    labels = value.get("labels")
    if not isinstance(labels, list) or len(labels) != 1:
        raise fail(f"{at}.value.labels", "exactly one label", labels)
    if labels[0] not in types:
        raise fail(f"{at}.value.labels", f"a label among {sorted(types)}", labels[0])
    return value.get("start"), value.get("end"), labels[0]


def _region(text: str, offsets: list[tuple[int, int]], span: Any, allowed: set[str] | None,
            at: str) -> dict[str, Any]:
    if not isinstance(span, Sequence) or len(span) != 3:
        raise fail(at, "a span (start, end_exclusive, type)", span)
    s, e, t = span
    if not (isinstance(s, int) and isinstance(e, int)) or not 0 <= s < e <= len(offsets):
        raise fail(at, f"token positions 0 <= start < end <= {len(offsets)}", span)
    if allowed is not None and t not in allowed:
        raise fail(at, f"a type among {sorted(allowed)}", t)
    a, b = offsets[s][0], offsets[e - 1][1]
    return {"from_name": NER_FROM_NAME, "to_name": _TO_NAME, "type": "labels",
            "value": {"start": a, "end": b, "text": text[a:b], "labels": [str(t)]}}


def _check_types(entity_types: Any) -> list[str]:
    return check_class_names(entity_types, name="entity_types", what="type names")


def _json_id(value: Any, i: int) -> Any:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise fail(f"item_ids[{i}]", "an integer or string id", value)
    return value


def _user(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("email", value.get("id"))
    return None if value is None else str(value)
