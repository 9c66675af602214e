"""Every reported reward comes from an optimisation whose end is recorded: converged means converged."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.svm import LinearSVC

from fairl.irl import METHODS, fit_reward
from fairl.splits import train_test_split
from tests.conftest import REALISABLE, REPO

M, L2 = 0.1, 1e-4  # the defaults of fairl.irl.Hyperparameters


def standardised_differences(data):
    h = np.concatenate([data.h_pos, data.h_neg])
    scale = h.std(axis=0)
    return (data.h_pos - data.h_neg) / scale, scale


def hinge_objective(diff, theta):
    return np.maximum(0, M - diff @ theta).mean() + L2 * theta @ theta


def svm_optimum(diff):
    """The exact optimum of mean(max(0, M − θᵀd)) + l2‖θ‖² from liblinear, as an independent check.

    With w = θ/M the objective is M·l2·(‖w‖² + 1/(l2·M·n) Σ hinge(1 − wᵀd)) up to a factor; liblinear
    minimises ½‖w‖² + C Σ hinge, and the pairs enter twice (d labelled +1 and −d labelled −1).
    """
    n = len(diff)
    svc = LinearSVC(loss="hinge", fit_intercept=False, C=1 / (4 * L2 * M * n), tol=1e-10, max_iter=500_000)
    svc.fit(np.concatenate([diff, -diff]), np.r_[np.ones(n), -np.ones(n)])
    return hinge_objective(diff, svc.coef_[0] * M)


@pytest.fixture(scope="module")
def converged(realisable):
    train, _ = train_test_split(REALISABLE.n_pairs, 0.2, seed=0)
    data = realisable.subset(train)
    return data, {m: fit_reward(data.h_pos, data.h_neg, m, seed=0) for m in METHODS}


@pytest.mark.parametrize("method", METHODS)
def test_every_method_converges_on_a_realisable_problem(converged, method):
    data, rewards = converged
    record = rewards[method].convergence
    assert record["optimisation"] == "converged" and record["settled"]
    if method.endswith("max_entropy"):  # smooth: the gradient vanishes at the optimum
        assert record["grad_norm"] < 1e-3 and record["relative_change"] < 1e-5
    else:  # the hinge has no gradient at its kinks: a duality gap, and liblinear's optimum as a second opinion
        assert 0 <= record["relative_change"] < 1e-3  # an upper bound: the dual is looser than the polished primal
        diff, scale = standardised_differences(data)
        assert hinge_objective(diff, rewards[method].theta * scale) <= svm_optimum(diff) * (1 + 1e-4)


@pytest.mark.parametrize("objective", ["max_margin", "max_entropy"])
def test_converged_fa_irl_ends_on_the_standard_solution(converged, objective):
    """p_T = 0: the last round has no failure term, so run to convergence FA-IRL returns standard IRL's reward."""
    _, rewards = converged
    fa, irl = rewards[f"fa_{objective}"], rewards[objective]
    cosine = fa.theta @ irl.theta / np.linalg.norm(fa.theta) / np.linalg.norm(irl.theta)
    assert cosine > 0.999
    assert np.linalg.norm(fa.theta_f) < 0.01 * np.linalg.norm(fa.theta_d)
    assert fa.history["n_sampled"].iloc[-1] == 0


def test_equal_budget_gives_every_method_the_same_number_of_gradient_evaluations(small_pairs):
    evaluations = {m: fit_reward(*small_pairs, m, seed=0, optimisation="equal_budget").convergence
                   for m in METHODS}
    assert {e["gradient_evaluations"] for e in evaluations.values()} == {100}
    assert not any(e["settled"] for e in evaluations.values())


def test_converged_hinge_is_exact_where_pairs_are_fewer_than_dimensions():
    """n < d with correlated features, as on the LM pairs: the regime where Adam on the primal crawled
    (it ended 2.8× above the optimum there)."""
    rng = np.random.default_rng(0)
    mixing = rng.standard_normal((12, 100))
    h_neg = rng.standard_normal((60, 12)) @ mixing + 0.05 * rng.standard_normal((60, 100))
    h_pos = h_neg + (rng.standard_normal((60, 12)) + 0.3) @ mixing
    reward = fit_reward(h_pos, h_neg, "max_margin", seed=0)
    diff = (h_pos - h_neg) / np.concatenate([h_pos, h_neg]).std(axis=0)
    assert reward.convergence["settled"] and reward.convergence["relative_change"] < 1e-4
    scale = np.concatenate([h_pos, h_neg]).std(axis=0)
    assert hinge_objective(diff, reward.theta * scale) <= svm_optimum(diff) * (1 + 1e-4)


def test_equal_budget_stops_short_of_the_converged_objective(realisable):
    """The negative control of convergence: 100 steps leave the hinge above its optimum."""
    data = realisable
    budget = fit_reward(data.h_pos, data.h_neg, "max_margin", seed=0, optimisation="equal_budget")
    full = fit_reward(data.h_pos, data.h_neg, "max_margin", seed=0)
    assert budget.convergence["objective"] > full.convergence["objective"] * (1 + 1e-3)


def test_converged_fa_irl_records_every_round(small_pairs):
    reward = fit_reward(*small_pairs, "fa_max_entropy", seed=0, rounds=8, inner_steps=4)
    history = reward.history
    assert len(history) == 8 and (history["evaluations"].iloc[:-1] <= 4).all()
    assert history["evaluations"].iloc[-1] > 4 and bool(history["settled"].iloc[-1])
    assert reward.convergence["gradient_evaluations"] == history["evaluations"].sum()


@pytest.mark.parametrize("regime", ["converged", "equal_budget"])
def test_same_seed_same_numbers_in_both_regimes(small_pairs, regime):
    a = fit_reward(*small_pairs, "fa_max_margin", seed=2, rounds=10, optimisation=regime)
    b = fit_reward(*small_pairs, "fa_max_margin", seed=2, rounds=10, optimisation=regime)
    assert np.array_equal(a.theta_d, b.theta_d) and np.array_equal(a.theta_f, b.theta_f)
    assert a.convergence == b.convergence


@pytest.mark.parametrize("lr", [0.05, 1e-3])
def test_adam_iterates_are_bit_identical_to_torch_optim_adam(lr):
    """fairl's Adam replaces torch.optim.Adam only to skip torch._dynamo's import: the same iterates, bit for bit,
    over two parameters (one of which has no gradient at some steps), and through a learning-rate change."""
    from fairl.irl.optimise import Adam

    generator = torch.Generator().manual_seed(0)
    diff_t = torch.randn(7, 50, generator=generator)
    start = [torch.randn(7, generator=generator), torch.randn(7, generator=generator)]

    def run(make, set_lr):
        params = [p.clone().requires_grad_() for p in start]
        optimiser = make(params)
        for step in range(40):
            optimiser.zero_grad()
            uses_second = step % 3 != 0  # the second parameter gets no gradient every third step
            delta = params[0] @ diff_t + (params[1] @ diff_t if uses_second else 0)
            (torch.nn.functional.softplus(-delta / 0.1).mean() + 1e-4 * params[0].dot(params[0])).backward()
            optimiser.step()
            if step == 20:
                set_lr(optimiser, lr / 2)
        return [p.detach() for p in params]

    ours = run(lambda params: Adam(params, lr=lr), lambda o, new: setattr(o, "lr", new))
    theirs = run(lambda params: torch.optim.Adam(params, lr=lr),
                 lambda o, new: [g.__setitem__("lr", new) for g in o.param_groups])
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs))
    # Negative control: a different schedule moves the iterates, so the equality above is not vacuous.
    other = run(lambda params: Adam(params, lr=lr), lambda o, new: setattr(o, "lr", new * 2))
    assert not torch.equal(other[0], theirs[0])


def _rosenbrock(x, diff_t):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2 + 1e-3 * (x @ diff_t).square().mean()


def _max_entropy(x, diff_t):
    return torch.nn.functional.softplus(-(x @ diff_t) / M).mean() + L2 * x.dot(x)


def _problem():
    generator = torch.Generator().manual_seed(0)
    diff_t = torch.randn(20, 300, generator=generator) + 0.2
    return diff_t, torch.randn(20, generator=generator) * 0.5


def _closure(problem, x, diff_t, values):
    """What torch.optim.LBFGS's callers hand it: grad reset, objective, backward; each value recorded."""
    def closure():
        x.grad = None
        value = problem(x, diff_t)
        value.backward()
        values.append(value.item())
        return value
    return closure


@pytest.mark.parametrize("problem, max_iter, max_eval, tolerance, history_size", [
    (_max_entropy, 200, 400, 1e-7, 10),  # the converged max-entropy solve
    (_max_entropy, 4, 8, 1e-7, 10),  # stopped by max_iter
    (_max_entropy, 50, 100, 1e9, 10),  # optimal at the first evaluation: no iteration
    (_rosenbrock, 300, 600, 1e-9, 10),  # non-convex and badly scaled: the line search brackets and zooms
    (_rosenbrock, 300, 600, 1e-9, 2),  # a short history, full from the third iteration on
    (_rosenbrock, 300, 600, 1e-3, 10),  # a loose tolerance: stops on the step or objective change
    (_rosenbrock, 100, 6, 1e-9, 10),  # max_eval cuts a line search short
])
def test_lbfgs_iterates_are_bit_identical_to_torch_optim_lbfgs(problem, max_iter, max_eval, tolerance, history_size):
    """fairl's L-BFGS replaces torch.optim.LBFGS only to skip torch._dynamo's import: the same iterates, bit for
    bit, the same objective evaluations and the same number of iterations, whichever stopping rule fires."""
    from fairl.irl.optimise import lbfgs

    diff_t, start = _problem()
    limits = {"max_iter": max_iter, "max_eval": max_eval, "tolerance_grad": tolerance, "tolerance_change": tolerance**2}

    def ours(history):
        x, values = start.clone().requires_grad_(), []
        closure = _closure(problem, x, diff_t, values)

        def evaluate():
            with torch.enable_grad():
                value = closure()
            return float(value), x.grad.view(-1)

        iterations = lbfgs(x, evaluate, history_size=history, **limits)
        return x.detach(), values, iterations

    theirs, their_values = start.clone().requires_grad_(), []
    optimiser = torch.optim.LBFGS([theirs], lr=1.0, history_size=history_size, line_search_fn="strong_wolfe", **limits)
    optimiser.step(_closure(problem, theirs, diff_t, their_values))
    x, values, iterations = ours(history_size)
    assert torch.equal(x, theirs.detach())
    assert values == their_values and iterations == optimiser.state[theirs]["n_iter"]
    if tolerance > 1:
        assert iterations == 0 and len(values) == 1
    elif max_eval < 2 * max_iter:  # the evaluation budget ran out first
        assert len(values) >= max_eval and iterations < max_iter
    if iterations > 5:  # Negative control: another history length moves the iterates, so equality is not vacuous.
        assert not torch.equal(ours(2 if history_size != 2 else 10)[0], theirs.detach())


@pytest.mark.parametrize("max_steps", [200, 3])
def test_lbfgs_solve_records_what_torch_optim_lbfgs_did(max_steps):
    """The converged max-entropy solve's record (evaluations, objective, last change, gradient norm, settled) is the
    one the torch.optim.LBFGS version wrote, also when the step budget runs out (settled False)."""
    from fairl.irl.optimise import Solve, _grad_norm, _relative, lbfgs_until_converged

    diff_t, start = _problem()
    tolerance = 1e-7

    def before(theta, objective):  # lbfgs_until_converged as it was, on torch.optim.LBFGS
        optimiser = torch.optim.LBFGS([theta], lr=1.0, max_iter=max_steps, max_eval=2 * max_steps, history_size=10,
                                      tolerance_grad=tolerance, tolerance_change=tolerance**2,
                                      line_search_fn="strong_wolfe")
        history = []

        def closure():
            optimiser.zero_grad(set_to_none=True)
            value = objective()
            value.backward()
            history.append(value.item())
            return value

        optimiser.step(closure)
        final, norm = _grad_norm([theta], objective)
        return Solve(len(history), final, _relative(history[-2:], final), norm,
                     settled=int(optimiser.state[theta].get("n_iter", 0)) < max_steps)

    solves, thetas = [], []
    for solve in (before, lambda t, o: lbfgs_until_converged(t, o, max_steps, tolerance)):
        theta = start.clone().requires_grad_()
        solves.append(solve(theta, lambda theta=theta: _max_entropy(theta, diff_t)))
        thetas.append(theta.detach())
    assert solves[0] == solves[1] and torch.equal(*thetas)
    assert solves[1].settled == (max_steps == 200)


def test_lbfgs_solve_does_not_import_torch_dynamo():
    """The point of fairl's L-BFGS: a converged max-entropy fit in a fresh process never imports torch._dynamo
    (1.5 s), which constructing torch.optim.LBFGS does (the positive control: the check can see the import)."""
    script = ("import sys, numpy as np, torch\n"
              "from fairl.irl import fit_reward\n"
              "rng = np.random.default_rng(0)\n"
              "h = rng.standard_normal((2, 200, 16))\n"
              "reward = fit_reward(h[0] + 0.5, h[1], 'max_entropy', seed=0)\n"
              "assert reward.convergence['settled'], reward.convergence\n"
              "print('torch._dynamo' in sys.modules)\n"
              "torch.optim.LBFGS([torch.zeros(1, requires_grad=True)])\n"
              "print('torch._dynamo' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
