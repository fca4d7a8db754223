"""Weak supervision for images: multiple-instance learning, class-activation-map localisation, seeds.

Importing this package does not import torch; the estimators and networks import it when used
(install it with ``pip install 'weaklab[vision]'``).
"""

from .bags import as_bags, bags_from_instances
from .instance_labels import instance_label_matrix, instance_votes
from .mil import AttentionMIL
from .misvm import MISVM

__all__ = [
    "AttentionMIL",
    "MISVM",
    "as_bags",
    "bags_from_instances",
    "instance_label_matrix",
    "instance_votes",
]
