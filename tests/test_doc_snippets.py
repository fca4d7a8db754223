"""Every Python and shell block of the README and of docs/ runs as written, page by page.

The conventions a page follows (docs/architecture.md, "Documentation", says the same):

- A page's blocks run in order in one fresh temporary folder: the Python blocks in one namespace, the
  shell blocks as commands, so a later block uses what an earlier one made (variables, files, a store).
- A block whose first line is a comment naming a file (``# lfs.py``, ``# weaklab.toml``,
  ``# data/tickets.csv``) is that file's content: it is written into the folder, not executed.
- ``<!-- not run: REASON -->`` on the line before a block leaves it out; the reason is required.
  It is for code that cannot run offline in seconds (a cluster, a ``pip install``, another library).
- A block that only includes a file (``--8<-- "examples/..."``) is an example script, run by
  ``tests/test_examples.py``.
- Shell blocks may use ``weaklab ...`` (run in this process through click's test runner; it must exit
  0), ``cd``, ``mkdir`` and ``cat > FILE <<'END'`` here-documents, joined by ``&&``. The placeholders
  ``ITEM_ID``, ``RUN_ID``, ``RUN_A`` and ``RUN_B`` stand for an item of the newest run and the newest
  runs of the store in the current folder. ``weaklab serve`` and ``weaklab annotate`` without a
  subcommand wait for a person: their command lines are parsed (options checked), not started.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SHELLS = {"bash", "sh", "shell", "console"}
_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_NOT_RUN = re.compile(r"<!--\s*not run:\s*(.*?)\s*-->\s*$", re.S)
_FILE_BLOCK = re.compile(r"^#\s*([\w./-]+\.(?:py|toml|csv|tsv|json|txt))\s*$")
_PLACEHOLDERS = ("ITEM_ID", "RUN_ID", "RUN_A", "RUN_B")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page: its language, code, line number and not-run reason (if any)."""

    language: str
    code: str
    line: int
    skip_reason: str | None


def page_blocks(path: Path) -> list[Block]:
    """The Python and shell blocks of a page (with file blocks of any language), in page order."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for match in _FENCE.finditer(text):
        language, code = match.group(1).lower(), match.group(2)
        first = code.splitlines()[0] if code.strip() else ""
        if language not in SHELLS | {"python"} and not _FILE_BLOCK.match(first):
            continue
        if code.lstrip().startswith("--8<--"):
            continue  # an examples/ script, run by tests/test_examples.py
        before = text[: match.start()].rstrip()
        marker = _NOT_RUN.search(before[-400:])
        reason = marker.group(1) if marker else None
        line = text.count("\n", 0, match.start()) + 1
        blocks.append(Block(language, code, line, reason))
    return blocks


def _runnable_pages() -> list[Path]:
    return [p for p in PAGES if any(b.skip_reason is None for b in page_blocks(p))]


def test_not_run_markers_give_a_reason_and_are_rare() -> None:
    """Every not-run marker states why, and most blocks run."""
    total = skipped = 0
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"<!--\s*not run:\s*-->", text), f"{page.name}: a not-run marker without a reason"
        for block in page_blocks(page):
            total += 1
            skipped += block.skip_reason is not None
    assert total > 50, f"only {total} code blocks found: the extraction is broken"
    assert skipped <= total // 4, f"{skipped} of {total} blocks are marked not run"


# --- shell -----------------------------------------------------------------------------------------


class _Shell:
    """The few shell commands the docs use, run in the test process (no subprocess start-up per command)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
        self.monkeypatch = monkeypatch
        self.where = where

    def run(self, code: str) -> None:
        lines = code.splitlines()
        index = 0
        while index < len(lines):
            line = lines[index]
            index += 1
            tokens = shlex.split(line, comments=True)
            while tokens:
                command, _, tokens = self._next_command(tokens)
                if command[0] == "cat":
                    index = self._heredoc(command, lines, index)
                else:
                    self._simple(command)

    @staticmethod
    def _next_command(tokens: list[str]) -> tuple[list[str], str, list[str]]:
        if "&&" in tokens:
            at = tokens.index("&&")
            return tokens[:at], "&&", tokens[at + 1:]
        return tokens, "", []

    def _heredoc(self, command: list[str], lines: list[str], index: int) -> int:
        text = " ".join(command)
        found = re.fullmatch(r"cat (>>?) (\S+) <<-?\s*'?(\w+)'?", text)
        assert found, f"{self.where}: unsupported cat command {text!r}"
        mode, target, tag = found.groups()
        body = []
        while lines[index].strip() != tag:
            body.append(lines[index])
            index += 1
        with open(target, "a" if mode == ">>" else "w", encoding="utf-8") as handle:
            handle.write("\n".join(body) + "\n")
        return index + 1

    def _simple(self, command: list[str]) -> None:
        name, args = command[0], command[1:]
        if name == "cd":
            self.monkeypatch.chdir(Path.cwd() / args[0])
        elif name == "mkdir":
            for folder in (a for a in args if not a.startswith("-")):
                Path(folder).mkdir(parents=True, exist_ok=True)
        elif name == "weaklab":
            self._weaklab([self._resolve(a) for a in args])
        else:
            pytest.fail(f"{self.where}: shell command {name!r} is not supported here; "
                        "use weaklab/cd/mkdir/cat, or mark the block <!-- not run: REASON -->")

    def _resolve(self, arg: str) -> str:
        if arg not in _PLACEHOLDERS:
            return arg
        runs = json.loads(self._invoke(["runs", "--json"]))
        assert runs, f"{self.where}: {arg} used before any run was recorded"
        if arg == "ITEM_ID":
            return str(runs[0]["item_ids"][0])
        if arg == "RUN_B" or arg == "RUN_ID":
            return str(runs[0]["run_id"])
        return str(runs[1 if len(runs) > 1 else 0]["run_id"])

    def _weaklab(self, args: list[str]) -> None:
        waits = args[:1] == ["serve"] or (args[:1] == ["annotate"] and not any(
            a in ("export", "import", "disagreements", "adjudicate") for a in args[1:]))
        if waits:
            _parse_only(args)
        else:
            self._invoke(args)

    def _invoke(self, args: list[str]) -> str:
        from click.testing import CliRunner

        from weaklab.cli import main

        result = CliRunner().invoke(main, args, prog_name="weaklab", catch_exceptions=True)
        if result.exit_code != 0:
            detail = f"{type(result.exception).__name__}: {result.exception}" if result.exception else ""
            pytest.fail(f"{self.where}: `weaklab {shlex.join(args)}` exited {result.exit_code} "
                        f"in {Path.cwd()}\n{result.output[-3000:]}\n{detail}")
        return result.output


def _parse_only(args: list[str]) -> None:
    """Check a command line's options without starting the command."""
    import click

    from weaklab.cli import main

    with main.make_context("weaklab", [args[0]]) as parent:
        command = main.get_command(parent, args[0])
        assert command is not None, f"no weaklab command {args[0]!r}"
        try:
            command.make_context(args[0], list(args[1:]), parent=parent).close()
        except click.UsageError as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"`weaklab {shlex.join(args)}`: {exc.format_message()}")


# --- the test --------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", _runnable_pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_page_runs_as_written(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dataset) -> None:
    """The page's blocks, run in order in one folder, all succeed."""
    text = page.read_text(encoding="utf-8")
    if "WEAKLAB_DATA" in text:  # a page on the shared benchmark data: skipped without it (not under CI)
        for name in sorted(set(re.findall(r'data / "([\w-]+)"', text))):
            monkeypatch.setenv("WEAKLAB_DATA", str(dataset(name).parent))
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__doc_page__"}
    name = page.relative_to(ROOT).as_posix()
    for block in page_blocks(page):
        if block.skip_reason is not None:
            continue
        where = f"{name}:{block.line}"
        named = _FILE_BLOCK.match(block.code.splitlines()[0])
        if named:
            target = Path(named.group(1))
            target.parent.mkdir(parents=True, exist_ok=True)
            keeps_comment = target.suffix in (".py", ".toml")  # other formats have no comment syntax
            target.write_text(block.code if keeps_comment else block.code.split("\n", 1)[1], encoding="utf-8")
        elif block.language == "python":
            try:
                exec(compile(block.code, where, "exec"), namespace)  # the docs' own code
            except Exception as exc:  # pragma: no cover - the message is the point
                pytest.fail(f"{where}: the python block failed: {type(exc).__name__}: {exc}\n{block.code}")
        else:
            _Shell(monkeypatch, where).run(block.code)
