import numpy as np
import pytest
import torch

from fairl.irl import fit_reward
from fairl.irl.fa_irl import fa_irl_loss
from fairl.irl.failure_set import find_failures, sample_failures
from fairl.irl.lambda_schedule import LambdaSchedule
from fairl.irl.losses import max_entropy_loss, max_margin_loss


def _losses(delta_d, delta_f, sampled):
    return fa_irl_loss(
        delta_d, delta_f, sampled, lambda d: max_margin_loss(d, 0.1), lambda d: max_margin_loss(d, 0.2)
    )


def test_fa_loss_matches_closed_form():
    delta_d = torch.tensor([0.5, 0.05, -0.3])
    delta_f = torch.tensor([0.0, 0.02, 0.1])
    sampled = torch.tensor([False, True, True])
    base, fail = _losses(delta_d, delta_f, sampled)
    # base: hinge at 0.1 of Δ_D + Δ_F = [0.5, 0.07, -0.2] -> [0, 0.03, 0.3]
    assert np.isclose(base.item(), (0 + 0.03 + 0.3) / 3)
    # fail: hinge at 0.2 over sampled pairs [0.07, -0.2] -> [0.13, 0.4]
    assert np.isclose(fail.item(), (0.13 + 0.4) / 2)


def test_failure_path_gets_gradient_only_from_sampled_failures():
    rng = np.random.default_rng(0)
    diff = torch.tensor(rng.standard_normal((50, 4)), dtype=torch.float32)
    theta_d = torch.randn(4, generator=torch.Generator().manual_seed(1)).requires_grad_()
    theta_f = torch.randn(4, generator=torch.Generator().manual_seed(2)).requires_grad_()
    sampled = torch.zeros(50, dtype=torch.bool)
    sampled[[3, 17, 40]] = True

    def grad_f(diff):
        base, fail = _losses(diff @ theta_d, diff @ theta_f, sampled)
        (base + 10.0 * fail).backward()
        grad = theta_f.grad.clone()
        theta_f.grad = None
        theta_d.grad = None
        return grad

    before = grad_f(diff)
    assert before.abs().sum() > 0  # failures do reach R_F
    perturbed = diff.clone()
    perturbed[~sampled] += 5.0  # change every non-failure pair drastically
    assert torch.equal(grad_f(perturbed), before)

    # and with no sampled failure R_F gets no gradient at all
    base, fail = _losses(diff @ theta_d, diff @ theta_f, torch.zeros(50, dtype=torch.bool))
    (base + fail).backward()
    assert theta_f.grad is None or torch.count_nonzero(theta_f.grad) == 0
    assert torch.count_nonzero(theta_d.grad) > 0


def test_failures_are_pairs_below_threshold():
    delta = torch.tensor([-1.0, -0.01, 0.0, 0.05, 0.3])
    assert find_failures(delta, 0.0).tolist() == [True, True, False, False, False]
    assert find_failures(delta, 0.1).tolist() == [True, True, True, True, False]


def test_sampled_failures_are_a_subset_at_the_requested_rate():
    failures = torch.rand(20000, generator=torch.Generator().manual_seed(0)) < 0.5
    sampled = sample_failures(failures, 0.2, torch.Generator().manual_seed(1))
    assert not (sampled & ~failures).any()
    assert abs(sampled.sum().item() / failures.sum().item() - 0.2) < 0.02
    assert not sample_failures(failures, 0.0, torch.Generator().manual_seed(1)).any()


def test_schedule_follows_the_paper():
    s = LambdaSchedule(rounds=100, gamma_init=-0.1, gamma_final=0.2, lambda_init=10, lambda_decay=0.05,
                       sampling_init=0.2, sampling_final=0.0)
    gamma, lam, rate = s.gamma(), s.lam(), s.sampling_rate()
    assert gamma[0] == -0.1 and np.isclose(gamma[-1], 0.2) and np.all(np.diff(gamma) > 0)
    assert lam[0] == 10 and np.all(np.diff(lam) < 0) and np.allclose(lam[1:] / lam[:-1], np.exp(-0.05))
    assert rate[0] == 0.2 and rate[-1] == 0.0 and np.all(np.diff(rate) < 0)


def test_schedule_ablations_hold_values_constant():
    s = LambdaSchedule(rounds=10, gamma_init=-0.1, gamma_final=0.2, lambda_init=10, lambda_decay=0.05,
                       sampling_init=0.2, sampling_final=0.0, curriculum=False, fixed_lambda=True)
    assert np.all(s.gamma() == 0.2) and np.all(s.sampling_rate() == 0.2) and np.all(s.lam() == 10)


@pytest.mark.parametrize("method", ["fa_max_margin", "fa_max_entropy"])
def test_history_records_the_curriculum(realisable, method):
    reward = fit_reward(realisable.h_pos, realisable.h_neg, method, seed=0, rounds=20)
    history = reward.history
    assert len(history) == 20
    assert history["n_failures"].between(0, len(realisable.h_pos)).all()
    assert (history["n_sampled"] <= history["n_failures"]).all()
    assert history["n_sampled"].iloc[-1] == 0  # p_T = 0
    assert history["train_accuracy"].iloc[-1] > history["train_accuracy"].iloc[0]


def test_disabled_failure_path_leaves_r_f_zero(small_pairs):
    reward = fit_reward(*small_pairs, "fa_max_margin", seed=0, failure_path=False, rounds=10)
    assert np.all(reward.theta_f == 0) and np.any(reward.theta_d != 0)
    full = fit_reward(*small_pairs, "fa_max_margin", seed=0, rounds=10, optimisation="equal_budget")
    assert np.any(full.theta_f != 0)
    # converged, the last round has no failures: R_F's only term is β‖θ_F‖², minimised exactly at 0
    assert np.all(fit_reward(*small_pairs, "fa_max_margin", seed=0, rounds=10).theta_f == 0)


def test_supervised_failures_use_the_given_labels(small_pairs):
    labels = np.zeros(64, dtype=bool)
    labels[:10] = True
    reward = fit_reward(*small_pairs, "fa_max_entropy", seed=0, failure_mode="supervised",
                        failure_labels=labels, rounds=10)
    assert (reward.history["n_failures"] == 10).all()
    assert reward.hyperparameters["n_failure_labels"] == 10


def test_stricter_failure_constant_changes_the_fit(small_pairs):
    a = fit_reward(*small_pairs, "fa_max_margin", seed=0, rounds=10, margin_failure=0.2, optimisation="equal_budget")
    b = fit_reward(*small_pairs, "fa_max_margin", seed=0, rounds=10, margin_failure=1.0, optimisation="equal_budget")
    assert not np.allclose(a.theta, b.theta)
    # run to convergence both end on the last round's objective, which has no failure term (p_T = 0)
    a, b = (fit_reward(*small_pairs, "fa_max_margin", seed=0, rounds=10, margin_failure=m) for m in (0.2, 1.0))
    assert np.allclose(a.theta, b.theta, rtol=1e-4, atol=1e-6)
    assert max_entropy_loss(torch.tensor(-0.1), 0.05) > max_entropy_loss(torch.tensor(-0.1), 0.1)


def test_sum_reduction_weighs_each_failure_by_one_over_n():
    delta_d = torch.tensor([0.5, 0.05, -0.3, 0.2])
    delta_f = torch.tensor([0.0, 0.02, 0.1, 0.0])
    sampled = torch.tensor([False, True, True, False])
    hinge = lambda m: (lambda d: max_margin_loss(d, m))  # noqa: E731
    _, mean = fa_irl_loss(delta_d, delta_f, sampled, hinge(0.1), hinge(0.2), reduction="mean")
    _, total = fa_irl_loss(delta_d, delta_f, sampled, hinge(0.1), hinge(0.2), reduction="sum")
    assert np.isclose(mean.item(), (0.13 + 0.4) / 2) and np.isclose(total.item(), (0.13 + 0.4) / 4)


@pytest.mark.parametrize(("trains", "reaches_d"), [("both", True), ("failure_path", False)])
def test_failure_loss_trains_the_paths_it_is_told_to(trains, reaches_d):
    theta_d = torch.tensor([0.3, -0.2], requires_grad=True)
    theta_f = torch.tensor([0.1, 0.1], requires_grad=True)
    diff = torch.tensor([[1.0, -1.0, 0.5], [0.2, 0.4, -1.0]])
    sampled = torch.tensor([True, True, False])
    _, fail = fa_irl_loss(theta_d @ diff, theta_f @ diff, sampled, lambda d: max_entropy_loss(d, 0.1),
                          lambda d: max_entropy_loss(d, 0.05), trains=trains)
    fail.backward()
    assert torch.count_nonzero(theta_f.grad) > 0
    assert (theta_d.grad is not None and torch.count_nonzero(theta_d.grad) > 0) == reaches_d


def test_failure_path_only_changes_the_fit_and_keeps_r_d_away_from_failures(small_pairs):
    both = fit_reward(*small_pairs, "fa_max_entropy", seed=0, rounds=10, optimisation="equal_budget")
    only = fit_reward(*small_pairs, "fa_max_entropy", seed=0, rounds=10, optimisation="equal_budget",
                      failure_trains="failure_path")
    summed = fit_reward(*small_pairs, "fa_max_entropy", seed=0, rounds=10, optimisation="equal_budget",
                        failure_reduction="sum")
    assert not np.allclose(both.theta, only.theta) and not np.allclose(both.theta, summed.theta)
    assert only.hyperparameters["failure_trains"] == "failure_path"
