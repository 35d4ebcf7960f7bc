"""The shipped digits: contents of the file, value mapping, split, determinism."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest
import torch

from flowkit import registry
from flowkit.data import Digits, bin_centres, load_digits_levels
from flowkit.exceptions import InvalidParameterError

# Documented facts of the UCI/scikit-learn digits: 1797 images, class counts for digits 0..9.
CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_shipped_file_holds_plain_integer_arrays():
    with resources.files("flowkit.data").joinpath("digits.npz").open("rb") as handle:
        with np.load(handle, allow_pickle=False) as archive:
            assert sorted(archive.files) == ["images", "labels"]
            assert archive["images"].dtype == np.uint8 and archive["images"].shape == (1797, 8, 8)
            assert archive["labels"].dtype == np.uint8 and archive["labels"].shape == (1797,)


def test_levels_and_labels_match_the_documented_data_set():
    levels, labels = load_digits_levels()
    assert levels.min() == 0 and levels.max() == 16
    assert torch.bincount(labels).tolist() == CLASS_COUNTS


def test_digits_split_shapes_values_and_labels():
    data = registry.create("dataset", "digits")
    assert data.event_shape == (1, 8, 8) and data.num_classes == 10 and data.num_bins == 17
    train, test = data.split("train"), data.split("test")
    assert train.x.shape == (1500, 1, 8, 8) and test.x.shape == (297, 1, 8, 8)
    assert train.y.shape == (1500,) and test.y.dtype == torch.long
    centres = 2 * (torch.arange(17) + 0.5) / 17 - 1
    assert torch.allclose(torch.unique(torch.cat([train.x, test.x])), centres)
    assert torch.bincount(torch.cat([train.y, test.y])).tolist() == CLASS_COUNTS
    assert set(test.y.tolist()) == set(range(10))


def test_split_is_a_seeded_partition_of_the_images():
    levels, labels = load_digits_levels()
    everything = torch.cat([bin_centres(levels, 17).flatten(1), labels[:, None].float()], dim=1)
    data = Digits(seed=1, n_test=100)
    parts = [
        torch.cat([s.x.flatten(1), s.y[:, None].float()], dim=1) for s in (data.split("train"), data.split("test"))
    ]
    assert len(parts[0]) == 1697 and len(parts[1]) == 100
    combined = torch.cat(parts)

    def multiset(rows):
        return torch.unique(rows, dim=0, return_counts=True)

    for got, want in zip(multiset(combined), multiset(everything)):
        assert torch.equal(got, want)
    assert torch.equal(Digits(seed=1, n_test=100).split("test").x, data.split("test").x)
    assert not torch.equal(Digits(seed=2, n_test=100).split("test").x, data.split("test").x)


@pytest.mark.parametrize(("params", "message"), [({"n_test": 1797}, "n_test must be below"), ({"seed": 1.5}, "seed")])
def test_digits_rejects_bad_parameters(params, message):
    with pytest.raises(InvalidParameterError, match=message):
        registry.create("dataset", "digits", **params)
