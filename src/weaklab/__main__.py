"""``python -m weaklab``: the ``weaklab`` command, for environments whose scripts folder is not on PATH."""

from __future__ import annotations

if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess
    from weaklab.cli import main

    main(prog_name="weaklab")
