"""Truth inference on real crowd answers (Zheng et al. 2017 data sets).

Run: python examples/crowd_truth_inference.py [path/to/crowd_zheng2017/d_jn-product]
"""

from __future__ import annotations

import sys
from pathlib import Path

from weaklab import GLAD, MACE, DawidSkene, MajorityVote, Wawa, load_zheng

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "crowd_zheng2017" / "d_jn-product"


def main(path: Path) -> None:
    data = load_zheng(path)
    gold = data.gold
    known = gold >= 0
    print(f"{data.name}: {data.L.n_items} items, {data.L.n_sources} workers, {data.L.nnz} answers")
    for model in (MajorityVote(), Wawa(), DawidSkene(random_state=0), GLAD(random_state=0), MACE(random_state=0)):
        pred = model.fit(data.L).predict(data.L, tie_break="random", random_state=0)
        print(f"{type(model).__name__:>12}: accuracy on gold items {(pred[known] == gold[known]).mean():.4f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
