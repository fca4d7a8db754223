"""Image items in a project: the image column is recorded, pictures are found and thumbnailed, and a
replaced picture sends its answered item back to review."""

from __future__ import annotations

import numpy as np
import pytest

from weaklab.errors import ValidationError
from weaklab.pipeline import Project
from weaklab.pipeline.images import ImageLookup
from weaklab.store import Store


def _store(root):
    return Store(root / ".weaklab" / "weaklab.duckdb")


def test_the_dataset_records_its_image_column_and_pictures_are_found(image_project):
    """A run records [data].image_column; ImageLookup resolves each item's picture and writes a PNG thumbnail."""
    result = Project(image_project).run("fit")
    with _store(image_project) as store:
        assert store.dataset(result.dataset_id)["meta"]["image_column"] == "picture"
        images = ImageLookup(store, result.dataset_id, size=56)
        assert images.column == "picture" and len(images) == 24 and images.reason is None
        assert images.ref("img3") == "pics/b3.png"
        thumb = images.thumbnail("img3")
        assert thumb is not None and thumb.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert thumb.is_relative_to(image_project / ".weaklab" / "thumbnails")
        assert images.thumbnail("no-such-item") is None


def test_a_missing_picture_is_reported_not_raised(image_project):
    """A picture deleted after the run gives no thumbnail and a reason naming the item, not an exception."""
    result = Project(image_project).run("fit")
    (image_project / "data" / "pics" / "b5.png").unlink()
    with _store(image_project) as store:
        images = ImageLookup(store, result.dataset_id)
        assert images.thumbnail("img5") is None
        assert "img5" in images.reason


def test_an_image_column_the_table_lacks_is_named(image_project):
    """[data].image_column naming no column of the table is a ValidationError naming the key and the column."""
    config = image_project / "weaklab.toml"
    config.write_text(config.read_text().replace('image_column = "picture"', 'image_column = "photo"'))
    with pytest.raises(ValidationError, match=r"data.image_column.*'photo'"):
        Project(image_project).run("apply")


def test_an_unreadable_picture_path_is_named_with_its_row(image_project):
    """A picture path that names no file stops the run with the column and the row, before anything is recorded."""
    table = image_project / "data" / "items.csv"
    table.write_text(table.read_text().replace("pics/b7.png", "pics/missing.png"))
    with pytest.raises(ValidationError, match=r"image_column 'picture', row 7"):
        Project(image_project).run("apply")


def test_a_replaced_picture_sends_its_answer_back_to_review(image_project):
    """Same path, new pixels: the answered item is flagged as changed since answered; untouched ones are not."""
    result = Project(image_project).run("fit")
    with _store(image_project) as store:
        for item in ("img1", "img2"):
            store.add_annotation(result.dataset_id, item, "ann", 1)
    from PIL import Image

    Image.fromarray(np.full((28, 28), 200, np.uint8)).save(image_project / "data" / "pics" / "b1.png")
    second = Project(image_project).run("fit")
    with _store(image_project) as store:
        changed = {str(v) for v in store.changed_since_answered(second.dataset_id)}
    assert "img1" in changed and "img2" not in changed
