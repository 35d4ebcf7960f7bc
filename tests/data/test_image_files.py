"""File-backed image data sets on small files written here in the official formats."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from flowkit import registry
from flowkit.data import DATA_ENV, bin_centres
from flowkit.exceptions import DataFilesError, InvalidParameterError

CIFAR_TRAIN = [f"data_batch_{i}.bin" for i in range(1, 6)]


def write_cifar_batch(path, levels, labels):
    """The official record layout: one label byte, then 3072 pixel bytes (R, G, B planes, row-major)."""
    records = np.concatenate([labels.astype(np.uint8)[:, None], levels.reshape(len(labels), -1)], axis=1)
    path.write_bytes(records.astype(np.uint8).tobytes())


def write_cifar_folder(folder, per_batch=3, n_test=4, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, n in [*[(f, per_batch) for f in CIFAR_TRAIN], ("test_batch.bin", n_test)]:
        levels = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n)
        write_cifar_batch(folder / name, levels, labels)
        written[name] = (levels, labels)
    return written


def as_points(levels):
    return bin_centres(torch.from_numpy(levels).long(), 256)


def test_cifar10_reads_the_binary_records_in_channel_first_order(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    written = write_cifar_folder(folder)
    data = registry.create("dataset", "cifar10", root=str(tmp_path))  # the parent folder works too
    assert data.event_shape == (3, 32, 32) and data.num_classes == 10 and data.num_bins == 256
    train, test = data.split("train"), data.split("test")
    levels = np.concatenate([written[f][0] for f in CIFAR_TRAIN])
    labels = np.concatenate([written[f][1] for f in CIFAR_TRAIN])
    assert torch.equal(train.x, as_points(levels)) and train.y.tolist() == labels.tolist()
    assert torch.equal(test.x, as_points(written["test_batch.bin"][0]))
    # byte 1 + c*1024 + row*32 + col of a record is channel c, row, col
    raw = np.fromfile(folder / "test_batch.bin", dtype=np.uint8).reshape(-1, 3073)
    c, row, col = 2, 5, 17
    assert test.x[1, c, row, col] == (2 * int(raw[1, 1 + c * 1024 + row * 32 + col]) + 1) / 256 - 1


def test_cifar10_missing_file_names_it_and_where_to_put_it(tmp_path, monkeypatch):
    write_cifar_folder(tmp_path)
    (tmp_path / "data_batch_3.bin").unlink()
    with pytest.raises(DataFilesError, match=r"missing data_batch_3\.bin.*cifar-10-batches-bin.*root="):
        registry.create("dataset", "cifar10", root=str(tmp_path))
    monkeypatch.delenv(DATA_ENV, raising=False)
    with pytest.raises(DataFilesError, match=DATA_ENV):
        registry.create("dataset", "cifar10")
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "elsewhere"))
    with pytest.raises(DataFilesError, match="elsewhere"):
        registry.create("dataset", "cifar10")


def test_cifar10_rejects_a_file_that_is_not_whole_records(tmp_path):
    write_cifar_folder(tmp_path)
    with open(tmp_path / "test_batch.bin", "ab") as handle:
        handle.write(b"\0" * 10)
    with pytest.raises(DataFilesError, match="3073-byte record"):
        registry.create("dataset", "cifar10", root=str(tmp_path))


def write_imagenet_folder(folder, size, per_batch=2, n_val=3, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for i in range(1, 11):
        data = rng.integers(0, 256, size=(per_batch, 3 * size * size), dtype=np.uint8)
        labels = rng.integers(1, 1001, size=per_batch)
        np.savez(folder / f"train_data_batch_{i}.npz", data=data, labels=labels, mean=data.mean(0))
        written[i] = (data, labels)
    data = rng.integers(0, 256, size=(n_val, 3 * size * size), dtype=np.uint8)
    labels = rng.integers(1, 1001, size=n_val)
    np.savez(folder / "val_data.npz", data=data, labels=labels)
    written["val"] = (data, labels)
    return written


@pytest.mark.parametrize("size", [32, 64])
def test_downsampled_imagenet_reads_the_npz_archives(tmp_path, size):
    written = write_imagenet_folder(tmp_path / f"imagenet{size}", size)
    data = registry.create("dataset", f"imagenet{size}", root=str(tmp_path), max_train=5)
    assert data.event_shape == (3, size, size) and data.num_classes == 1000 and data.num_bins == 256
    train, test = data.split("train"), data.split("test")
    assert train.x.shape == (5, 3, size, size)  # max_train: the first 5 of the ten batches in order
    first = np.concatenate([written[i][0] for i in (1, 2, 3)])[:5]
    assert torch.equal(train.x, as_points(first.reshape(5, 3, size, size)))
    assert train.y.tolist() == (np.concatenate([written[i][1] for i in (1, 2, 3)])[:5] - 1).tolist()
    val, val_labels = written["val"]
    c, row, col = 1, size - 1, 3  # planes R, G, B one after the other, each row-major
    assert test.x[2, c, row, col] == (2 * int(val[2, c * size * size + row * size + col]) + 1) / 256 - 1
    assert test.y.tolist() == (val_labels - 1).tolist()


def test_downsampled_imagenet_errors_name_the_problem(tmp_path):
    write_imagenet_folder(tmp_path, 32)
    with pytest.raises(DataFilesError, match=r"uint8 \[n, 12288\].*other resolution"):
        registry.create("dataset", "imagenet64", root=str(tmp_path))
    np.savez(tmp_path / "val_data.npz", pixels=np.zeros((2, 3072), np.uint8))
    with pytest.raises(DataFilesError, match="lacks the array"):
        registry.create("dataset", "imagenet32", root=str(tmp_path))
    np.savez(tmp_path / "val_data.npz", data=np.array([{"a": 1}], dtype=object), labels=np.ones(1))
    with pytest.raises(DataFilesError, match="not a readable .npz archive of plain arrays"):
        registry.create("dataset", "imagenet32", root=str(tmp_path))
    (tmp_path / "train_data_batch_10.npz").unlink()
    with pytest.raises(DataFilesError, match="missing train_data_batch_10.npz"):
        registry.create("dataset", "imagenet32", root=str(tmp_path))


def striped(width, height):
    """Left quarter red, right quarter blue, middle green."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:, : width // 4, 0] = 255
    pixels[:, width // 4 : width - width // 4, 1] = 255
    pixels[:, width - width // 4 :, 2] = 255
    return Image.fromarray(pixels)


def test_image_folder_resizes_the_short_side_and_crops_the_centre(tmp_path):
    for cls in ("cats", "dogs"):
        (tmp_path / cls).mkdir()
    striped(64, 32).save(tmp_path / "cats" / "a.png")  # wide: the red and blue quarters are cut off
    Image.new("RGB", (20, 50), (10, 200, 30)).save(tmp_path / "dogs" / "b.jpg", quality=100)
    Image.new("RGB", (16, 16), (255, 255, 255)).save(tmp_path / "dogs" / "c.PNG")
    (tmp_path / "dogs" / "notes.txt").write_text("not an image")
    data = registry.create("dataset", "image-folder", root=str(tmp_path), size=16, test_fraction=0.34)
    assert data.classes == ("cats", "dogs") and data.num_classes == 2 and data.num_bins == 256
    assert data.event_shape == (3, 16, 16)
    x = torch.cat([data.split("train").x, data.split("test").x])
    y = torch.cat([data.split("train").y, data.split("test").y])
    assert sorted(y.tolist()) == [0, 1, 1]
    stripes = x[y == 0][0]
    # resized to 32 x 16, the central 16 columns are the green half: no red or blue survives the crop
    assert stripes.shape == (3, 16, 16)
    assert (
        torch.all(stripes[1, :, 2:-2] > 0.9)
        and torch.all(stripes[0, :, 2:-2] < -0.9)
        and torch.all(stripes[2, :, 2:-2] < -0.9)
    )
    solid = [img for img in x[y == 1] if img[0].mean() < 0]  # the green JPEG (the white PNG has red = 1)
    level = (solid[0] + 1) * 128 - 0.5
    assert torch.allclose(level.mean((1, 2)), torch.tensor([10.0, 200.0, 30.0]), atol=3)


def test_image_folder_without_class_folders_is_unlabelled_and_errors_are_clear(tmp_path):
    for i in range(3):
        Image.new("RGB", (8, 8), (i, i, i)).save(tmp_path / f"{i}.png")
    data = registry.create("dataset", "image-folder", root=str(tmp_path), size=4)
    assert data.num_classes is None and data.split("train").y is None and data.event_shape == (3, 4, 4)
    with pytest.raises(DataFilesError, match="found 0 image"):
        registry.create("dataset", "image-folder", root=str(tmp_path), extensions=[".gif"])
    with pytest.raises(InvalidParameterError, match="extensions"):
        registry.create("dataset", "image-folder", root=str(tmp_path), extensions="png")
    with pytest.raises(DataFilesError, match="is not a folder"):
        registry.create("dataset", "image-folder", root=str(tmp_path / "nope"))
