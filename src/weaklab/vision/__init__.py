"""Weak supervision for images: multiple-instance learning, class-activation-map localisation, seeds.

Importing this package does not import torch; the estimators and networks import it when used
(install it with ``pip install 'weaklab[vision]'``).
"""

from .bags import as_bags, bags_from_instances
from .cam import CAMClassifier, grad_cam
from .instance_labels import instance_label_matrix, instance_votes
from .localize import box_iou, box_to_mask, cam_to_box, corloc, mask_to_box, max_box_acc
from .mil import AttentionMIL
from .miles import MILES, similarity_embedding
from .misvm import MISVM
from .seeds import IGNORE, cam_to_seeds, refine_seeds
from .segment import SegmentationNet, constrained_labels, mean_iou, self_train_segmentation

__all__ = [
    # multiple-instance learning
    "AttentionMIL",
    "MISVM",
    "MILES",
    "similarity_embedding",
    "as_bags",
    "bags_from_instances",
    "instance_label_matrix",
    "instance_votes",
    # localisation from image-level labels
    "CAMClassifier",
    "grad_cam",
    "cam_to_box",
    "box_iou",
    "corloc",
    "max_box_acc",
    "mask_to_box",
    "box_to_mask",
    # segmentation seeds and self-training
    "IGNORE",
    "cam_to_seeds",
    "refine_seeds",
    "SegmentationNet",
    "self_train_segmentation",
    "constrained_labels",
    "mean_iou",
]
