import numpy as np
from weaklab import ABSTAIN, keyword_lf, labeling_function, regex_lf

BILLING, BUG, OTHER = 0, 1, 2

@labeling_function()
def question(x):
    return OTHER if x.ticket_body.strip().lower().startswith(("how", "where", "what", "do you", "is there", "can i")) else ABSTAIN

lfs = [
    keyword_lf(["refund", "invoice", "charged", "payment", "bill", "fee"], BILLING),
    keyword_lf(["crash", "error", "broken", "freezes", "exception", "bug"], BUG),
    regex_lf(r"\bupdate\b", BUG),
    question,
]
