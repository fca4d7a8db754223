"""Image items: loaders for folders, tables and arrays; lazy decoding; the thumbnail cache."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from weaklab import ValidationError
from weaklab.data import (
    ImageItems,
    ThumbnailCache,
    image_content_hash,
    load_image_arrays,
    load_image_folder,
    load_image_table,
    load_mnist,
    read_idx,
    read_images,
)

Image = pytest.importorskip("PIL.Image")



def _write_idx(path, arr: np.ndarray) -> None:
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if str(path).endswith(".gz") else data)


def test_read_idx_round_trips_gzipped_and_plain_files(bar_images, tmp_path):
    """An IDX file written by the format's rules reads back with its shape and values."""
    X, y = bar_images(5)
    _write_idx(tmp_path / "x-ubyte.gz", X)
    _write_idx(tmp_path / "y-ubyte", y)
    assert np.array_equal(read_idx(tmp_path / "x-ubyte.gz"), X)
    assert np.array_equal(read_idx(tmp_path / "y-ubyte"), y)


def test_read_idx_rejects_a_file_of_the_wrong_length(tmp_path):
    """A truncated IDX file is a ValidationError naming the path, not a numpy error."""
    (tmp_path / "bad-ubyte").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 9, 1, 2]))
    with pytest.raises(ValidationError, match="path"):
        read_idx(tmp_path / "bad-ubyte")


def test_array_items_decode_lazily_and_carry_labels(bar_images, tmp_path):
    """load_image_arrays keeps references; pixels decode the named rows from the file."""
    X, y = bar_images(12)
    np.savez(tmp_path / "bars.npz", images=X, labels=y)
    items = load_image_arrays(tmp_path / "bars.npz", class_names=["h", "v"])
    assert isinstance(items, ImageItems) and len(items) == 12
    assert items.frame["image"].str.endswith("#3").sum() == 1
    assert np.array_equal(items.labels, y)
    assert np.array_equal(items.pixels([3, 0]), X[[3, 0]])
    assert items.pixels([1], size=(14, 14)).shape == (1, 14, 14)
    assert items.pixels([1], mode="RGB").shape == (1, 28, 28, 3)


def test_idx_items_with_a_labels_file(bar_images, tmp_path):
    """IDX images with an IDX labels file give one item per image with its label."""
    X, y = bar_images(6)
    _write_idx(tmp_path / "img-ubyte.gz", X)
    _write_idx(tmp_path / "lab-ubyte.gz", y)
    items = load_image_arrays(tmp_path / "img-ubyte.gz", tmp_path / "lab-ubyte.gz", id_prefix="t")
    assert items.frame["item_id"].tolist()[:2] == ["t0", "t1"]
    assert np.array_equal(items.labels, y)
    with pytest.raises(ValidationError, match="labels"):
        load_image_arrays(tmp_path / "img-ubyte.gz", np.arange(5))


def test_class_per_folder_and_flat_folders(bar_images, tmp_path):
    """Subfolders become classes in sorted order; a flat folder has no labels."""
    X, y = bar_images(6)
    for i, (img, label) in enumerate(zip(X, y)):
        folder = tmp_path / "by_class" / ("horizontal", "vertical")[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(folder / f"img{i}.png")
        (tmp_path / "flat").mkdir(exist_ok=True)
        Image.fromarray(img).save(tmp_path / "flat" / f"img{i}.png")
    items = load_image_folder(tmp_path / "by_class")
    assert items.class_names == ("horizontal", "vertical")
    decoded = items.pixels()
    for label, img in zip(items.labels, decoded):
        assert img.shape == (28, 28)
        assert any(np.array_equal(img, x) for x in X[y == label])
    flat = load_image_folder(tmp_path / "flat")
    assert flat.labels is None and len(flat) == 6
    with pytest.raises(ValidationError, match="folder"):
        load_image_folder(tmp_path / "by_class" / "missing")


def test_table_of_paths_with_metadata_resolves_relative_paths(bar_images, tmp_path):
    """A CSV of relative image paths plus captions loads with class names from the label column."""
    X, y = bar_images(4)
    (tmp_path / "img").mkdir()
    for i, img in enumerate(X):
        Image.fromarray(img).save(tmp_path / "img" / f"{i}.png")
    pd.DataFrame({"path": [f"img/{i}.png" for i in range(4)], "caption": ["a bar", None, "bars", ""],
                  "kind": np.where(y == 0, "h", "v")}).to_csv(tmp_path / "items.csv", index=False)
    items = load_image_table(tmp_path / "items.csv", image_column="path", label_column="kind")
    assert list(items.frame.columns) == ["item_id", "image", "caption", "label"]
    assert items.class_names == ("h", "v") and np.array_equal(items.labels, y)
    assert np.array_equal(items.pixels(), X)
    with pytest.raises(ValidationError, match="image_column"):
        load_image_table(tmp_path / "items.csv", image_column="file")


def test_decoding_errors_name_the_parameter(tmp_path):
    """Missing files and mixed sizes are ValidationErrors naming refs and size."""
    Image.new("L", (8, 8)).save(tmp_path / "a.png")
    Image.new("L", (9, 8)).save(tmp_path / "b.png")
    with pytest.raises(ValidationError, match="size"):
        read_images([str(tmp_path / "a.png"), str(tmp_path / "b.png")])
    assert read_images([str(tmp_path / "a.png"), str(tmp_path / "b.png")], size=(8, 8)).shape == (2, 8, 8)
    with pytest.raises(ValidationError, match="refs"):
        read_images([str(tmp_path / "nope.png")])
    np.savez(tmp_path / "x.npz", images=np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(ValidationError, match="refs"):
        read_images([f"{tmp_path / 'x.npz'}#2"])


def test_thumbnails_are_keyed_by_content(bar_images, tmp_path):
    """Equal images share one PNG thumbnail; different images get different ones of the asked size."""
    X, _ = bar_images(3)
    X[1] = X[0]
    np.savez(tmp_path / "b.npz", images=X)
    refs = [f"{tmp_path / 'b.npz'}#{i}" for i in range(3)]
    cache = ThumbnailCache(tmp_path / "thumbs", size=56)
    paths = cache.thumbnails(refs)
    assert paths[0] == paths[1] != paths[2]
    assert image_content_hash(refs[0]) == image_content_hash(refs[1])
    with Image.open(paths[2]) as im:
        assert im.size == (56, 56) and im.format == "PNG"
        shown = np.asarray(im.convert("L"))[::2, ::2]  # nearest-neighbour x2 keeps every pixel
    assert np.array_equal(shown, X[2])
    with pytest.raises(ValidationError, match="size"):
        ThumbnailCache(tmp_path, size=2)


@pytest.mark.realdata
def test_fashion_mnist_test_split(dataset):
    """The Fashion-MNIST test split has 1,000 images per class and its class names."""
    items = load_mnist(dataset("fashion_mnist"), "test")
    assert len(items) == 10_000 and items.class_names[9] == "Ankle boot"
    assert np.array_equal(np.bincount(items.labels), np.full(10, 1000))
    assert items.pixels([0, 1]).shape == (2, 28, 28)


def test_rooted_ref_reads_a_relative_picture_from_its_tables_folder_wherever_the_sources_look(tmp_path):
    """A new table's relative references, made absolute against its folder, decode the same pictures whatever
    root a source was built with (an absolute path ignores it); array files keep their index."""
    from weaklab.data.image_io import rooted_ref

    new = tmp_path / "incoming"
    (new / "pics").mkdir(parents=True)
    pixels = np.arange(64, dtype=np.uint8).reshape(8, 8)
    Image.fromarray(pixels).save(new / "pics" / "a.png")
    np.savez(new / "stack.npz", images=np.stack([pixels, pixels[::-1]]))
    elsewhere = tmp_path / "project" / "data"
    refs = [rooted_ref("pics/a.png", new), rooted_ref("stack.npz#1", new)]
    assert refs[0] == str(new / "pics" / "a.png") and refs[1] == f"{new / 'stack.npz'}#1"
    decoded = read_images(refs, root=elsewhere)
    assert np.array_equal(decoded[0], pixels) and np.array_equal(decoded[1], pixels[::-1])
    assert rooted_ref(refs[0], elsewhere) == refs[0]
