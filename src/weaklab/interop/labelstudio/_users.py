"""Who answered: Label Studio user ids turned into names, without merging different people.

Label Studio 1.23 writes integer user ids (``completed_by`` in JSON, ``annotator``
in JSON_MIN). A *user map* names them: the users export of the server
(``GET /api/users``: a JSON list of ``{"id", "email", "username",
"first_name", "last_name", ...}``), a JSON object ``{"1": "alice@example.org"}``,
or a CSV/TSV file with an ``id`` column and an ``email``, ``username`` or
``name`` column.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..._core.validation import fail

__all__ = ["read_user_map", "user_map", "name_annotators"]

_NAME_KEYS = ("email", "username", "name")


def read_user_map(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a user map file (see the module docstring) as ``{str(user id): name}``.

    Parameters
    ----------
    path : str or Path
        A JSON users export or mapping, or a CSV/TSV table with ``id`` and a name column.

    Returns
    -------
    dict of str to str

    Raises
    ------
    ValidationError
        The file is missing, unreadable, or has no usable id/name pairs.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "users.json").write_text(json.dumps([{"id": 1, "email": "ann@example.org"}]))
    >>> read_user_map(folder / "users.json")
    {'1': 'ann@example.org'}
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail("users", "an existing user map file", got_text=repr(str(file))) from None
    except (UnicodeDecodeError, OSError) as exc:
        raise fail("users", "a readable UTF-8 user map file", got_text=f"{str(file)!r} ({exc})") from None
    if file.suffix.lower() in (".csv", ".tsv"):
        return _table_map(file, text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"users {file}", "a JSON users export or {id: name} object, or a CSV with id and email columns",
                   got_text=f"a JSON syntax error at line {exc.lineno}: {exc.msg}") from None
    return user_map(data, source=f"users {file}")


def user_map(data: Any, *, source: str = "users") -> dict[str, str]:
    """``{str(user id): name}`` from a decoded users export (list of user objects) or an ``{id: name}`` mapping.

    A user object is named by its ``email``, else ``username``, else
    ``first_name last_name``.

    Examples
    --------
    >>> user_map([{"id": 3, "email": "", "username": "bo"}, {"id": 4, "first_name": "Cy", "last_name": "Ng"}])
    {'3': 'bo', '4': 'Cy Ng'}
    >>> user_map({"1": "ann@example.org"})
    {'1': 'ann@example.org'}
    """
    if isinstance(data, Mapping) and isinstance(data.get("results"), list):
        data = data["results"]  # the paginated form of the users API
    out: dict[str, str] = {}
    if isinstance(data, list):
        for i, user in enumerate(data):
            if not isinstance(user, Mapping) or user.get("id") is None:
                raise fail(f"{source}[{i}]", "a user object with an 'id'", user)
            out[_key(user["id"], f"{source}[{i}].id")] = _user_name(user, f"{source}[{i}]")
    elif isinstance(data, Mapping):
        for key, value in data.items():
            name = _user_name(value, f"{source}[{key!r}]") if isinstance(value, Mapping) else value
            if not isinstance(name, str) or not name.strip():
                raise fail(f"{source}[{key!r}]", "a non-empty name or e-mail", value)
            out[_key(key, f"{source} key")] = name.strip()
    else:
        raise fail(source, "a list of user objects (Label Studio's users export) or an {id: name} object", data)
    if not out:
        raise fail(source, "at least one user", got_text="an empty map")
    return out


def _table_map(file: Path, text: str) -> dict[str, str]:
    import io

    frame = pd.read_csv(io.StringIO(text), sep="\t" if file.suffix.lower() == ".tsv" else ",", dtype=str,
                        keep_default_na=False)
    columns = {c.strip().lower(): c for c in frame.columns}
    name_column = next((columns[k] for k in _NAME_KEYS if k in columns), None)
    if "id" not in columns or name_column is None:
        raise fail(f"users {file}", "an 'id' column and an 'email', 'username' or 'name' column",
                   got_text=f"columns {list(frame.columns)}")
    return user_map({row[columns["id"]]: row[name_column] for _, row in frame.iterrows()}, source=f"users {file}")


def _key(value: Any, at: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or str(value).strip() == "":
        raise fail(at, "a user id (an integer or string)", value)
    return str(value).strip()


def _user_name(user: Mapping[str, Any], at: str) -> str:
    for key in _NAME_KEYS:
        value = user.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    full = " ".join(str(user.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    if full:
        return full
    raise fail(at, "a user with an email, username or name", user)


def name_annotators(frame: pd.DataFrame, *, users: Mapping[str, str] | None = None, annotator: str | None = None,
                    source: str = "export") -> pd.DataFrame:
    """The parsed export with annotator ids replaced by names; never two people under one name.

    Parameters
    ----------
    frame : pandas.DataFrame
        The output of ``parse_label_studio_export`` (``annotator`` and ``status`` columns).
    users : mapping of str to str, optional
        User id → name. Every user id of the export must be in it (e-mails
        written by older Label Studio versions are kept as they are).
    annotator : str, optional
        A name for the answers whose annotator the export does not give, and
        for the export's one user when it names a single user and ``users``
        is not given. Refused when it would give one name to several people.
    source : str, default="export"
        The export's name, for messages.

    Returns
    -------
    pandas.DataFrame
        A copy with ``annotator`` holding names (None only where neither the
        export nor ``annotator`` names anyone).

    Raises
    ------
    ValidationError
        A user id missing from ``users``, or ``annotator`` given for an export of several people.
    """
    out = frame.copy()
    who = out["annotator"]
    people = who[out["status"] != "unanswered"]
    ids = sorted({str(v) for v in people.dropna()})
    if users is not None:
        missing = [i for i in ids if i not in users and "@" not in i]
        if missing:
            raise fail(f"users (for {source})", "a name for every annotator of the export",
                       got_text=f"none for user id(s) {', '.join(missing[:5])}")
        out["annotator"] = [users.get(str(v), str(v)) if v is not None else None for v in who]
    if annotator is None:
        return out
    if not isinstance(annotator, str) or not annotator.strip():
        raise fail("annotator", "a non-empty name", annotator)
    unnamed = bool(people.isna().any())
    if users is None and len(ids) + unnamed > 1:
        shown = ", ".join(ids[:5]) + (" and answers without a user" if unnamed else "")
        raise fail("annotator", "one name for an export answered by one person (name several people with "
                   "a user map, --users)", got_text=f"{annotator!r} for {len(ids) + unnamed} annotators: {shown}")
    rename = {i: annotator.strip() for i in ids} if users is None else {}
    out["annotator"] = [annotator.strip() if v is None and s != "unanswered" else rename.get(str(v), v)
                        for v, s in zip(out["annotator"], out["status"])]
    return out
