"""Time embeddings against their closed forms."""

from __future__ import annotations

import math

import pytest
import torch

from flowkit.exceptions import InvalidParameterError
from flowkit.models import FourierTimeEmbedding, SinusoidalTimeEmbedding, time_embedding


def test_sinusoidal_matches_closed_form():
    t = torch.tensor([0.0, 0.25, 1.0], dtype=torch.float64)
    phi = SinusoidalTimeEmbedding(6)(t)
    frequencies = [10_000 ** (-k / 3) for k in range(3)]
    for row, time in zip(phi, t.tolist()):
        expected = [math.sin(1000 * time * w) for w in frequencies] + [math.cos(1000 * time * w) for w in frequencies]
        torch.testing.assert_close(row, torch.tensor(expected, dtype=torch.float64))


def test_odd_dimension_appends_time_itself():
    t = torch.tensor([0.3, 0.7])
    for embedding in (SinusoidalTimeEmbedding(5), FourierTimeEmbedding(5)):
        phi = embedding(t)
        assert phi.shape == (2, 5)
        torch.testing.assert_close(phi[:, -1], t)


def test_fourier_matches_closed_form_and_is_stored():
    embedding = FourierTimeEmbedding(8, scale=3.0)
    t = torch.tensor([0.1, 0.9])
    b = embedding.frequencies
    expected = torch.cat([torch.sin(2 * math.pi * t[:, None] * b), torch.cos(2 * math.pi * t[:, None] * b)], dim=1)
    torch.testing.assert_close(embedding(t), expected)
    assert "frequencies" in embedding.state_dict()
    assert not list(embedding.parameters())


def test_fourier_frequencies_have_the_requested_scale():
    b = FourierTimeEmbedding(20_000, scale=5.0).frequencies
    assert abs(b.mean().item()) < 4 * 5.0 / math.sqrt(10_000)
    assert b.std().item() == pytest.approx(5.0, rel=0.05)


def test_features_are_at_least_float32():
    t = torch.tensor([0.5], dtype=torch.bfloat16)
    assert SinusoidalTimeEmbedding(4)(t).dtype == torch.float32
    assert SinusoidalTimeEmbedding(4)(t.double()).dtype == torch.float64


@pytest.mark.parametrize("name,dim", [("wavelet", 4), ("sinusoidal", 1), ("fourier", 0)])
def test_bad_embedding_parameters(name, dim):
    with pytest.raises(InvalidParameterError, match="sinusoidal|dim"):
        time_embedding(name, dim)
