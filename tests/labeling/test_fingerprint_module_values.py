"""An LF's version follows the module-level values its code reads: editing `TARGET = 2` in an LF module
gives the function a new fingerprint (so a project applies it again instead of reusing stale votes), while
names it does not read, imported modules and comments leave the version alone."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

_COUNTER = itertools.count()

_MODULE = '''\
import numpy as np
from weaklab import ABSTAIN, labeling_function

TARGET = {target}
WORDS = {words}
UNUSED = {unused}


def starts(text):
    return text.lower().startswith(WORDS{helper_extra})


@labeling_function()
def question(x):
    return TARGET if starts(x.text) else ABSTAIN
'''


def _fingerprint(folder: Path, *, target: int = 2, words: str = '("how", "where")', unused: int = 0,
                 helper_extra: str = "", comment: str = "") -> str:
    path = folder / f"lfs_{next(_COUNTER)}.py"
    path.write_text(comment + _MODULE.format(target=target, words=words, unused=unused, helper_extra=helper_extra))
    spec = importlib.util.spec_from_file_location("lf_module_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.question.fingerprint


def test_a_changed_constant_the_lf_returns_changes_its_version(tmp_path):
    assert _fingerprint(tmp_path, target=2) != _fingerprint(tmp_path, target=0)


def test_a_changed_constant_a_helper_reads_changes_its_version(tmp_path):
    assert _fingerprint(tmp_path) != _fingerprint(tmp_path, words='("how", "where", "what")')


def test_a_changed_helper_function_changes_its_version(tmp_path):
    assert _fingerprint(tmp_path) != _fingerprint(tmp_path, helper_extra=") or text.endswith(('?',)")


def test_values_the_lf_does_not_read_and_comments_leave_its_version(tmp_path):
    base = _fingerprint(tmp_path)
    assert _fingerprint(tmp_path, unused=5) == base
    assert _fingerprint(tmp_path, comment="# a new comment line\n") == base
    assert _fingerprint(tmp_path) == base  # the same module loaded again: the same version
