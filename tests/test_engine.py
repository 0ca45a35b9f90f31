"""Claims about the theory engine: exact special cases, fast paths, stability."""

import numpy as np
import pytest

import sgdlab
from sgdlab.curve import checkpoints
from sgdlab.linear import gaussian, predict_many
from sgdlab.linear._blocks import doubling_tables, recursion_blocks
from sgdlab.linear._modes import characteristic_roots, transition
from sgdlab.linear._recursion import recursion_batch, recursion_numba, recursion_reference
from sgdlab.linear.stability import growth_rate, kernel_gf, noise_mass

PL = sgdlab.Problem.power_law(dim=200, nu=1.5, kappa=1.0)


def _args(p, s, rec, c_c=None, c_d=None):
    nm = gaussian(s.batch)
    return (p.eigenvalues, np.ascontiguousarray(p.initial_moments), p.noise_variance, s.lr, s.momentum,
            nm.coupling if c_c is None else c_c, nm.self_noise if c_d is None else c_d, rec, 1e300, 1e300)


# ------------------------------------------------------------ special cases
def test_one_mode_matches_hand_derived_values():
    # lam = 1, w* = 1, b = 1: the noise is alpha^2 (A + (A + 0)) = 2 alpha^2 A.
    alpha, beta = 0.2, 0.3
    p = sgdlab.Problem.from_eigenvalues([1.0], target=[1.0])
    c = sgdlab.predict(p, sgdlab.SGD(lr=alpha, momentum=beta, batch=1), steps=2, method="reference")
    a = alpha
    A0 = 1.0
    n0 = 2 * a**2 * A0
    A1 = (1 - a) ** 2 * A0 + n0
    C1 = -a * (1 - a) * A0 + n0
    D1 = a**2 * A0 + n0
    A2 = (1 - a) ** 2 * A1 + 2 * beta * (1 - a) * C1 + beta**2 * D1 + 2 * a**2 * A1
    assert c.loss.tolist() == pytest.approx([0.5 * A0, 0.5 * A1, 0.5 * A2], rel=1e-14)
    # and with beta = 0 the loss is a geometric sequence with ratio (1-a)^2 + 2a^2
    c0 = sgdlab.predict(p, sgdlab.SGD(lr=alpha, batch=1), steps=50)
    assert c0.loss == pytest.approx(0.5 * ((1 - a) ** 2 + 2 * a**2) ** np.arange(51), rel=1e-12)


def test_infinite_batch_equals_deterministic_heavy_ball_in_closed_form():
    p = sgdlab.Problem.power_law(dim=50, nu=1.5, kappa=1.0)
    alpha, beta = 0.7, -0.3
    c = sgdlab.predict(p, sgdlab.SGD(lr=alpha, momentum=beta, batch=10**15), steps=300)
    rp, rm = characteristic_roots(alpha * p.eigenvalues, beta)
    t = c.steps[:, None]
    # psi_m = (r+^(m+1) - r-^(m+1))/(r+ - r-); free decay phi_t = psi_t - beta psi_{t-1} (math-linear §3.1)
    psi = lambda m: ((rp ** (m + 1) - rm ** (m + 1)) / (rp - rm)).real  # noqa: E731
    phi = psi(t) - beta * psi(t - 1)
    closed = 0.5 * np.sum(p.eigenvalues * (phi * p.target) ** 2, axis=1)
    assert c.loss == pytest.approx(closed, rel=1e-9)


def test_zero_momentum_is_plain_sgd():
    p = sgdlab.Problem.power_law(dim=100, nu=2.0, kappa=0.5, noise_variance=0.01)
    alpha, b = 0.4, 3
    c = sgdlab.predict(p, sgdlab.SGD(lr=alpha, momentum=0.0, batch=b), steps=400)
    lam, A = p.eigenvalues, p.initial_moments.copy()
    s2 = p.noise_variance
    ref = []
    for t in range(401):
        S = lam @ A + s2
        ref.append(S / 2)
        A = (1 - alpha * lam) ** 2 * A + alpha**2 / b * (lam**2 * A + lam * S)
    assert c.loss == pytest.approx(np.array(ref)[c.steps], rel=1e-12)


def test_label_noise_sets_the_floor_sigma2_over_2_1_minus_U():
    p = sgdlab.Problem.power_law(dim=20, nu=2.0, kappa=1.0, noise_variance=0.3)
    s = sgdlab.SGD(lr=0.3, momentum=0.2, batch=2)
    c = sgdlab.predict(p, s, steps=200_000)
    U = noise_mass(p.eigenvalues, s.lr, s.momentum, gaussian(s.batch))
    assert c.final_loss == pytest.approx(0.5 * p.noise_variance / (1 - U), rel=1e-8)


# ------------------------------------------------------------------ fast paths
@pytest.mark.parametrize("alpha,beta,b,s2", [(0.5, 0.0, 1, 0.0), (0.3, 0.5, 4, 0.0), (0.8, -0.3, 8, 0.05)])
def test_compiled_kernel_equals_reference_to_1e_10(alpha, beta, b, s2):
    p = sgdlab.Problem.power_law(dim=300, nu=1.5, kappa=1.0, noise_variance=s2)
    s = sgdlab.SGD(lr=alpha, momentum=beta, batch=b)
    rec = checkpoints(2000)
    ref, n1, _ = recursion_reference(*_args(p, s, rec))
    fast, n2, _ = recursion_numba(*_args(p, s, rec))
    assert n1 == n2 == rec.size
    np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=0)


def test_batched_kernel_equals_reference_to_1e_10():
    p = PL
    cfg = [(0.5, 0.0, 1), (0.3, 0.5, 4), (0.8, -0.3, 8), (0.05, 0.95, 2)]
    rec = checkpoints(1500)
    alphas = np.array([c[0] for c in cfg])
    betas = np.array([c[1] for c in cfg])
    cc = np.array([1.0 / c[2] for c in cfg])
    out, nrec, _ = recursion_batch(p.eigenvalues, p.initial_moments.copy(), 0.0, alphas, betas, cc, cc,
                                   rec, 1e300, 1e300)
    for j, (a, be, b) in enumerate(cfg):
        ref, _, _ = recursion_reference(*_args(p, sgdlab.SGD(lr=a, momentum=be, batch=b), rec))
        np.testing.assert_allclose(out[j, :nrec[j]], ref, rtol=1e-10, atol=0)


@pytest.mark.parametrize("nu,kappa,alpha,beta,b,s2", [
    (1.5, 1.0, 0.5, -0.2, 8, 0.0),     # signal-dominated
    (1.5, 4.0, 0.3, 0.5, 1, 0.0),      # noise-dominated, then exponential (finite spectrum)
    (1.2, 0.5, 0.8, -0.3, 8, 0.01),    # label-noise floor
    (2.0, 1.0, 0.05, 0.95, 1, 0.0),    # heavy momentum
])
def test_geometric_time_stepping_agrees_with_direct_recursion_within_1e_3(nu, kappa, alpha, beta, b, s2):
    p = sgdlab.Problem.power_law(dim=1000, nu=nu, kappa=kappa, noise_variance=s2)
    s = sgdlab.SGD(lr=alpha, momentum=beta, batch=b)
    direct = sgdlab.predict(p, s, steps=100_000, method="recursion")
    blocks = sgdlab.predict(p, s, steps=100_000, method="blocks")
    np.testing.assert_array_equal(direct.steps, blocks.steps)
    np.testing.assert_allclose(blocks.loss, direct.loss, rtol=1e-3)


def test_doubling_tables_equal_matrix_powers_and_sums():
    T = transition(np.array([0.3, 1.1, 1.9]), -0.4, 0.25)
    P, G = doubling_tables(T, 6)
    for j in range(6):
        h = 2**j
        for k in range(3):
            np.testing.assert_allclose(P[j, k], np.linalg.matrix_power(T[k], h), rtol=1e-12, atol=1e-14)
            pows = [np.linalg.matrix_power(T[k], m) @ np.ones(3) for m in range(h)]
            for i in range(3):
                np.testing.assert_allclose(G[j, k, i], sum(m**i * v for m, v in enumerate(pows)),
                                           rtol=1e-11, atol=1e-12)


# ------------------------------------------------------------------ stability
def test_critical_lr_reproduces_the_exact_two_mode_value():
    p = sgdlab.Problem.from_eigenvalues([1.0, 2.0])
    assert sgdlab.critical_lr(p, momentum=0.0, batch=1) == pytest.approx(4 / (9 + np.sqrt(17)), abs=1e-9)


def test_noise_mass_closed_form_equals_the_sum_of_the_kernel():
    p = sgdlab.Problem.power_law(dim=30, nu=1.5, kappa=1.0)
    alpha, beta, b = 0.4, 0.3, 2
    nm = gaussian(b)
    # K_m = response of the loss to a unit of loss m+1 steps earlier: run the recursion from S = 2
    # injected once, i.e. K_m = alpha^2 c_c sum lam^2 e1' T^m 1.
    T = transition(alpha * p.eigenvalues, beta, nm.self_noise)
    v = np.ones((30, 3))
    K = []
    for _ in range(4000):
        K.append(alpha**2 * nm.coupling * np.sum(p.eigenvalues**2 * v[:, 0]))
        v = np.einsum("kij,kj->ki", T, v)
    U = noise_mass(p.eigenvalues, alpha, beta, nm)
    assert U == pytest.approx(sum(K), rel=1e-10)
    assert kernel_gf(1.0, p.eigenvalues, alpha, beta, nm) == pytest.approx(U, rel=1e-12)


def _coupled_map(p, alpha, beta, b):
    """The full linear map of (A, C, D) over all modes, noise coupling included."""
    n = p.dim
    lam = p.eigenvalues
    M = np.zeros((3 * n, 3 * n))
    T = transition(alpha * lam, beta, 1.0 / b)
    for k in range(n):
        M[3 * k:3 * k + 3, 3 * k:3 * k + 3] = T[k]
        for j in range(n):                       # alpha^2/b lam_k lam_j A_j into all three rows
            M[3 * k:3 * k + 3, 3 * j] += alpha**2 / b * lam[k] * lam[j]
    return M


@pytest.mark.parametrize("b", [1, 8, 64])
@pytest.mark.parametrize("beta", [-0.5, 0.0, 0.5, 0.9])
def test_critical_lr_separates_convergence_from_divergence_at_5_percent(beta, b):
    p = sgdlab.Problem.power_law(dim=60, nu=1.5, kappa=1.0)
    a_star = sgdlab.critical_lr(p, momentum=beta, batch=b)
    # independent method: spectral radius of the full coupled 3n x 3n map
    rho = [np.max(np.abs(np.linalg.eigvals(_coupled_map(p, f * a_star, beta, b)))) for f in (0.95, 1.05)]
    assert rho[0] < 1 < rho[1]
    # and the recursion itself: decays at 0.95 a*, grows at 1.05 a*
    horizon = int(min(max(40.0 / np.log(rho[1]), 2000), 2_000_000))
    lo = sgdlab.predict(p, sgdlab.SGD(lr=0.95 * a_star, momentum=beta, batch=b), steps=horizon)
    hi = sgdlab.predict(p, sgdlab.SGD(lr=1.05 * a_star, momentum=beta, batch=b), steps=horizon)
    assert lo.status == "converges" and hi.status == "diverges"
    assert lo.final_loss < 0.5 * lo.loss[0] and lo.loss[-1] < lo.loss[len(lo) // 2]
    assert hi.final_loss > 1e3 * hi.loss[0]


def test_divergent_curve_says_diverges_from_which_step_and_why():
    p = PL
    a_star = sgdlab.critical_lr(p, momentum=0.0, batch=1)
    c = sgdlab.predict(p, sgdlab.SGD(lr=1.3 * a_star, batch=1), steps=10**6)
    assert c.status == "diverges"
    assert "noise mass U" in c.reason and "critical lr" in c.reason
    assert c.diverged_at is not None and c.loss[c.steps >= c.diverged_at][0] > 1e6 * c.loss[0]
    assert np.all(np.isfinite(c.loss)) and c.meta["truncated"]
    # the growth rate 1/z0 (z0 K(z0) = 1) is the observed per-step growth
    rate = growth_rate(p.eigenvalues, 1.3 * a_star, 0.0, gaussian(1))
    tail = c.loss[-20:], c.steps[-20:]
    observed = np.exp(np.polyfit(tail[1], np.log(tail[0]), 1)[0])
    assert observed == pytest.approx(rate, rel=1e-3)
    # past the deterministic edge the top mode is named
    d = sgdlab.predict(p, sgdlab.SGD(lr=2.5, batch=10**6), steps=100)
    assert d.status == "diverges" and "deterministic instability" in d.reason


def test_stability_map_agrees_with_critical_lr_for_every_momentum():
    p = PL
    lrs = np.linspace(0.01, 2.0, 40)
    betas = np.linspace(-0.8, 0.95, 15)
    m = sgdlab.stability_map(p, lrs, betas, batch=4)
    for i, be in enumerate(betas):
        a_star = sgdlab.critical_lr(p, momentum=be, batch=4)
        assert m.critical_lr[i] == pytest.approx(a_star, rel=1e-9)
        np.testing.assert_array_equal(np.asarray(m)[i], lrs < a_star)
        finite = np.isfinite(m.noise_mass[i])
        np.testing.assert_array_equal((m.noise_mass[i] < 1) & finite, lrs < a_star)


def test_predict_many_equals_single_predictions():
    p = sgdlab.Problem.power_law(dim=100, nu=1.5, kappa=1.0)
    lrs, betas = np.array([0.2, 0.4, 5.0]), np.array([0.0, 0.5, 0.0])
    rec, loss = predict_many(p, lrs, betas, batch=2, steps=500)
    for j in range(2):
        c = sgdlab.predict(p, sgdlab.SGD(lr=lrs[j], momentum=betas[j], batch=2), steps=500)
        np.testing.assert_allclose(loss[j], c.loss, rtol=1e-12)
    assert np.isinf(loss[2, -1])


def test_the_paced_recursion_is_the_compiled_one_bit_for_bit(monkeypatch):
    """Cut into compiled calls of bounded wall time (Ctrl-C lands between them), the numbers do not change."""
    import sgdlab._chunks as chunks
    from sgdlab.linear._recursion import recursion_numba, recursion_paced
    p = sgdlab.Problem.power_law(dim=300, noise_variance=0.1)
    rec = sgdlab.checkpoints(5000)
    for lr, beta, b in [(0.5, 0.3, 4), (3.0, 0.0, 1)]:       # converging, and diverging (stops at the guard)
        args = (p.eigenvalues, p.initial_moments, 0.1, lr, beta, 1 / b, 1 / b, rec, 1e6 * p.initial_loss,
                1e100 * p.initial_loss)
        whole = recursion_numba(*args)
        real = chunks.Pacer
        monkeypatch.setattr(chunks, "Pacer", lambda first=1, **k: real(target_s=1e-9, first=1, grow=1.0))
        tiny = recursion_paced(*args)
        monkeypatch.undo()
        assert tiny[1] == whole[1] and tiny[2] == whole[2]
        np.testing.assert_array_equal(tiny[0][: tiny[1]], whole[0][: whole[1]])


def test_a_noiseless_run_past_machine_zero_keeps_every_normal_loss_and_flushes_only_subnormal_moments():
    """Gradient descent (no noise, σ² = 0) on 20 modes for 5·10⁴ steps: the moments decay through the subnormal
    range, where the compiled recursion sets them to zero every FLUSH_EVERY steps (speed); every loss that is
    a normal number equals the unflushed numpy reference's, and paced and compiled runs stay bit-identical."""
    from sgdlab.linear._recursion import TINY, recursion_paced
    lam = 1.0 / np.arange(1, 21) ** 1.5
    rec = np.unique(np.geomspace(1, 50_000, 200).astype(np.int64))
    args = (lam, np.full(20, 0.05), 0.0, 0.9, 0.3, 0.0, 0.0, rec, 1e10, 1e300)
    ref, n_ref, _ = recursion_reference(*args)
    fast, n, _ = recursion_numba(*args)
    assert n == n_ref == rec.size
    normal = ref >= 1e6 * TINY
    assert normal.sum() > 50 and (~normal).sum() >= 10                # the run crosses into the subnormal range
    # each step multiplies a mode's state by a factor rounded differently in the two codes (fused multiply-adds,
    # the shared term s = (1-a)A + 2βC): the relative difference grows like t·ε, here 1.3e-12 at t = 2.3·10⁴
    np.testing.assert_allclose(fast[normal], ref[normal], rtol=4 * np.finfo(float).eps * rec[-1])
    assert np.all(fast[~normal] <= 1e6 * TINY)
    assert np.any((fast == 0.0) & (ref > 0.0))                      # the flush did act: zero where ref is subnormal
    np.testing.assert_array_equal(recursion_paced(*args)[0], fast)
