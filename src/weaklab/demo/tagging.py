"""``weaklab init --example tagging``: a small named-entity project (chemicals and diseases), generated offline.

The sentences are generated here from templates and word lists written for
weaklab (no external corpus, so nothing to license or download): clinical-
style sentences naming drugs (``Chemical``) and conditions (``Disease``),
with distractor sentences and words that look like entities but are not
("routine", "protein", "medicine"). Gold spans come from the generator. The
example LFs know only part of the vocabulary and use suffix rules that
over- and under-fire, so they disagree the way real dictionaries and
patterns do, and the label model has something to resolve.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._core.validation import check_int, fail
from ..pipeline.config import CONFIG_NAME
from ._files import refuse_existing, write_example

__all__ = ["init_tagging_project", "tagging_example", "TAGGING_EXAMPLE_ITEMS", "TAGGING_CONFIG", "TAGGING_LFS"]

#: How many sentences a tagging example can have (fewest, most).
TAGGING_EXAMPLE_ITEMS = (40, 20000)

CHEMICALS = (
    "aspirin", "ibuprofen", "paracetamol", "acetaminophen", "naproxen", "warfarin", "heparin", "metformin",
    "insulin", "lithium", "morphine", "codeine", "caffeine", "nicotine", "cisplatin", "doxorubicin", "tamoxifen",
    "methotrexate", "prednisone", "dexamethasone", "lisinopril", "atorvastatin", "simvastatin", "amoxicillin",
    "penicillin", "vancomycin", "valproic acid", "folic acid", "nitric oxide", "sodium chloride", "haloperidol",
    "clozapine", "diazepam", "lorazepam", "ketamine", "cocaine", "ethanol", "cyclosporine", "tacrolimus",
    "gentamicin", "digoxin", "amiodarone", "propranolol", "furosemide", "captopril", "levodopa",
)
DISEASES = (
    "hypertension", "diabetes", "asthma", "arthritis", "hepatitis", "nephritis", "dermatitis", "pancreatitis",
    "migraine", "epilepsy", "heart failure", "breast cancer", "lung cancer", "renal failure", "liver injury",
    "myocardial infarction", "atrial fibrillation", "pneumonia", "anemia", "leukemia", "lymphoma", "melanoma",
    "psychosis", "schizophrenia", "seizures", "hepatotoxicity", "nephrotoxicity", "cardiotoxicity", "neuropathy",
    "kidney disease", "Parkinson disease", "Alzheimer disease", "stroke", "obesity", "hypotension",
    "tachycardia", "bradycardia", "thrombosis", "osteoporosis", "fibrosis",
)
#: Sentence templates: ``{C}`` a chemical, ``{D}`` a disease, ``{N}`` a number, ``{W}`` a distractor word.
TEMPLATES = (
    "{C} was given to patients with {D} .",
    "Treatment with {C} induced {D} in {N} of {N} rats .",
    "{D} developed after high doses of {C} .",
    "We report a case of {D} associated with {C} and {C} .",
    "The risk of {D} increased with long-term {C} use .",
    "Patients receiving {C} showed no signs of {D} .",
    "In this study , {C} reduced {D} and {D} .",
    "{C} is widely used in the treatment of {D} .",
    "Co-administration of {C} with {C} may cause {D} .",
    "{N} patients with {D} were randomized to {C} or placebo .",
    "The {W} was continued for {N} weeks .",
    "Blood pressure and {W} levels were measured every {N} hours .",
    "No {W} changes were observed in the control group .",
    "Samples were stored at {N} degrees before {W} analysis .",
)
DISTRACTORS = ("routine", "medicine", "protein", "creatinine", "baseline", "vaccine", "morning", "discipline")


def tagging_example(n_items: int = 400, *, dev_share: float = 0.25, random_state: int = 0) -> pd.DataFrame:
    """Generate the example sentences: ``sentence_id``, ``text`` (space-separated tokens), ``spans``, ``split``.

    Parameters
    ----------
    n_items : int, default 400
    dev_share : float, default 0.25
        Share of sentences in the ``dev`` split (the rest are ``train``).
    random_state : int, default 0

    Returns
    -------
    DataFrame
        ``spans`` is JSON ``[[start, end_exclusive, type], ...]`` over the whitespace tokens of ``text``.

    Examples
    --------
    >>> frame = tagging_example(50, random_state=0)
    >>> frame.columns.tolist(), len(frame)
    (['sentence_id', 'text', 'spans', 'split'], 50)
    """
    n_items = check_int("n_items", n_items, low=TAGGING_EXAMPLE_ITEMS[0], high=TAGGING_EXAMPLE_ITEMS[1])
    if not 0.0 < dev_share < 1.0:
        raise fail("dev_share", "a share in (0, 1)", dev_share)
    rng = np.random.default_rng(random_state)
    texts, spans = zip(*(_sentence(rng) for _ in range(n_items)))
    dev = np.zeros(n_items, dtype=bool)
    dev[rng.choice(n_items, round(dev_share * n_items), replace=False)] = True
    return pd.DataFrame({"sentence_id": [f"s{i:05d}" for i in range(n_items)], "text": list(texts),
                         "spans": [json.dumps(s) for s in spans], "split": np.where(dev, "dev", "train")})


def _sentence(rng: np.random.Generator) -> tuple[str, list[list[Any]]]:
    template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
    tokens: list[str] = []
    spans: list[list[Any]] = []
    for i, part in enumerate(template.split()):
        fill = {"{C}": ("Chemical", CHEMICALS), "{D}": ("Disease", DISEASES)}.get(part)
        if fill is not None:
            words = fill[1][int(rng.integers(len(fill[1])))].split()
            if i == 0:
                words = [words[0][:1].upper() + words[0][1:], *words[1:]]
            spans.append([len(tokens), len(tokens) + len(words), fill[0]])
            tokens += words
        elif part == "{N}":
            tokens.append(str(int(rng.integers(2, 60))))
        elif part == "{W}":
            tokens.append(DISTRACTORS[int(rng.integers(len(DISTRACTORS)))])
        else:
            tokens.append(part)
    return " ".join(tokens), spans


TAGGING_CONFIG = """\
# weaklab tagging project: named entities (Chemical, Disease) in generated clinical sentences.
# See README.md in this folder. Paths are relative to this file.
[project]
name = "{name}"

[task]
kind = "tagging"
entity_types = ["Chemical", "Disease"]
tokenizer = "whitespace"      # the text column is cut into tokens at spaces

[data]
path = "data/sentences.csv"
id_column = "sentence_id"
text_field = "text"
gold_column = "spans"         # JSON spans [[start, end_exclusive, "Type"], ...]; used only on the dev rows
split_column = "split"
dev_value = "dev"

[lfs]
module = "lfs.py"
attribute = "lfs"

[label_model]
name = "HMMLabelModel"        # or MajorityVoteTagger, TokenDawidSkene (weaklab.sequence)
params = {{ random_state = 0 }}

[end_model]
name = "crf"                  # a CRF tagger trained on the label model's tags (or "none")
params = {{ max_iterations = 50 }}

[store]
path = ".weaklab/weaklab.duckdb"

[query]
n = 20
"""

TAGGING_LFS = '''\
"""Span labeling functions of this project: each marks token spans as Chemical or Disease.

Edit them and run `weaklab fit` again: a changed function becomes a new source
version in the store. `weaklab explain ITEM_ID` shows every source's spans.
"""

from weaklab.sequence import gazetteer_lf, regex_span_lf, shape_lf

# Dictionaries that know part of the vocabulary (as real ones do).
CHEMICALS = ["aspirin", "ibuprofen", "paracetamol", "warfarin", "heparin", "metformin", "insulin", "lithium",
             "morphine", "cisplatin", "doxorubicin", "tamoxifen", "prednisone", "amoxicillin", "penicillin",
             "valproic acid", "nitric oxide", "haloperidol", "diazepam", "cocaine", "ethanol", "digoxin"]
DISEASES = ["hypertension", "diabetes", "asthma", "migraine", "epilepsy", "heart failure", "breast cancer",
            "renal failure", "pneumonia", "psychosis", "seizures", "stroke", "obesity", "Parkinson disease",
            "atrial fibrillation", "thrombosis"]

lfs = [
    gazetteer_lf(CHEMICALS, "Chemical", name="dict_chemical"),
    gazetteer_lf(DISEASES, "Disease", name="dict_disease"),
    # suffixes of drug names (also fire on "routine", "protein", ...)
    regex_span_lf(r"\\b\\w+(?:ine|in|ol|ide|one|pril|statin|pam|azole)\\b", "Chemical", name="suffix_chemical"),
    # suffixes of condition names
    regex_span_lf(r"\\b\\w+(?:itis|emia|oma|osis|pathy|toxicity|cardia|tension)\\b", "Disease",
                  name="suffix_disease"),
    # organ + failure/cancer/disease/injury
    regex_span_lf(r"\\b(?:heart|renal|kidney|liver|lung|breast) (?:failure|cancer|disease|injury)\\b", "Disease",
                  name="organ_disease"),
    # a capitalised word followed by "disease"
    regex_span_lf(r"\\b[A-Z][a-z]+ disease\\b", "Disease", name="named_disease"),
    # any word ending in "acid"
    shape_lf(r"\\w+ic|acid", "Chemical", name="acid_shape", min_length=2, max_length=2),
]
'''

TAGGING_README = """\
# A weaklab tagging project

`data/sentences.csv` holds {n} generated clinical-style sentences (weaklab writes them from its own
templates and word lists: no external corpus), with gold `spans` (JSON, token offsets, end exclusive)
and a `split` column; gold is used only on the `dev` rows, to measure.

    weaklab train                # apply the span LFs, fit the tag label model (HMM), train the CRF tagger
    weaklab runs                 # span F1 of the label model, majority vote and the CRF on the dev gold
    weaklab explain s00003       # an item's tokens with every source's spans and the proposed spans
    weaklab serve                # the review queue: accept, reject or fix proposed spans with the keyboard
"""


def init_tagging_project(path: Any = ".", *, n_items: int = 400, random_state: int = 0,
                         force: bool = False) -> list[Path]:
    """Create a tagging project folder: ``weaklab.toml``, ``lfs.py``, ``README.md``, ``data/sentences.csv``.

    Parameters
    ----------
    path : str or Path, default "."
    n_items : int, default 400
        Sentences to generate.
    random_state : int, default 0
    force : bool, default False
        Overwrite existing files.

    Returns
    -------
    list of Path
        The files written.

    Examples
    --------
    >>> init_tagging_project("ner_project")            # doctest: +SKIP
    [PosixPath('ner_project/weaklab.toml'), ...]
    """
    root = Path(path)
    frame = tagging_example(n_items, random_state=random_state)
    files = {root / CONFIG_NAME: TAGGING_CONFIG.format(name=root.resolve().name or "tagging"),
             root / "lfs.py": TAGGING_LFS, root / "README.md": TAGGING_README.format(n=n_items)}
    data = root / "data" / "sentences.csv"
    refuse_existing([*files, data], force)
    write_example(root, files, {data: frame})
    return [*files, data]
