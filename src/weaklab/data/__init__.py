"""Loaders: WRENCH JSON folders, crowd answers, CSV/Parquet tables, images and bundled demo data.

Every loader validates its input once and raises
:class:`~weaklab.errors.ValidationError` naming the file and field at fault.
Loaders of labelled data sets return a :class:`WeakLabelDataset` (items, a
:class:`~weaklab.LabelMatrix` and gold labels, row-aligned).
"""

from ._io import read_table, table_format
from .bundled import YOUTUBE_SPAM_CLASSES, load_youtube_spam
from .cifar10n import CIFAR10_CLASSES, load_cifar10n
from .crowd import load_crowd, load_dawid_skene_1979, load_zheng, load_zheng_numeric
from .dataset import WeakLabelDataset
from .image_io import read_idx, read_images
from .images import (
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    ImageItems,
    load_image_arrays,
    load_image_folder,
    load_image_table,
    load_mnist,
)
from .thumbnails import ThumbnailCache, image_content_hash
from .wrench import WRENCH_SPLITS, load_wrench

__all__ = [
    "WeakLabelDataset",
    "load_wrench",
    "load_crowd",
    "load_zheng",
    "load_zheng_numeric",
    "load_dawid_skene_1979",
    "load_cifar10n",
    "load_youtube_spam",
    "read_table", "table_format",
    "WRENCH_SPLITS",
    "CIFAR10_CLASSES",
    "YOUTUBE_SPAM_CLASSES",
    "ImageItems",
    "load_image_folder",
    "load_image_table",
    "load_image_arrays",
    "load_mnist",
    "read_images",
    "read_idx",
    "ThumbnailCache",
    "image_content_hash",
    "MNIST_CLASSES",
    "FASHION_MNIST_CLASSES",
]
