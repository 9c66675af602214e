import math

import numpy as np
import torch

from fairl.irl.losses import max_entropy_loss, max_margin_loss


def test_max_margin_is_hinge_at_margin():
    delta = torch.tensor([-1.0, 0.0, 0.05, 0.1, 2.0])
    expected = [1.1, 0.1, 0.05, 0.0, 0.0]
    assert torch.allclose(max_margin_loss(delta, 0.1), torch.tensor(expected))


def test_max_entropy_is_bradley_terry_at_temperature():
    delta = torch.tensor([-0.3, 0.0, 0.2], dtype=torch.float64)
    expected = [-math.log(1 / (1 + math.exp(-d / 0.1))) for d in delta.tolist()]
    assert torch.allclose(max_entropy_loss(delta, 0.1), torch.tensor(expected, dtype=torch.float64))
    assert math.isclose(max_entropy_loss(torch.tensor(0.0), 0.1).item(), math.log(2), rel_tol=1e-6)


def test_max_entropy_is_finite_where_naive_log_sigmoid_overflows():
    delta = torch.tensor([-50.0, 50.0])  # Δ/τ = ∓500: exp overflows float32
    naive = -torch.log(torch.sigmoid(delta / 0.1))
    assert torch.isinf(naive[0])
    stable = max_entropy_loss(delta, 0.1)
    assert torch.isfinite(stable).all()
    assert np.isclose(stable[0].item(), 500.0)
    assert stable[1].item() < 1e-30


def test_lower_temperature_penalises_misordering_more():
    delta = torch.tensor([-0.2])
    assert max_entropy_loss(delta, 0.05) > max_entropy_loss(delta, 0.1)
