"""Claims about sgdlab.predict_gradient: ∂E[L_t]/∂lr and ∂E[L_t]/∂momentum by forward mode (docs/advice.md)."""

import numpy as np
import pytest

import sgdlab
from sgdlab import InputError
from sgdlab.linear import NoiseModel
from sgdlab.linear._tangent import tangent_numba, tangent_reference

EPS = np.finfo(float).eps
RNG = np.random.default_rng(7)


def central_difference(f, x0, h):
    """Fourth-order central difference (f(x-2h) - 8f(x-h) + 8f(x+h) - f(x+2h)) / 12h: truncation h⁴f⁽⁵⁾/30."""
    return (8.0 * (f(x0 + h) - f(x0 - h)) - (f(x0 + 2 * h) - f(x0 - 2 * h))) / (12.0 * h)


def finite_differences(f, x0, scale, rungs=16):
    """The central difference of every checkpoint at the step of a ladder h_k = ε^{1/5} scale 2^-k (ε^{1/5}:
    float64 rounding ε/h against the stencil's h⁴ truncation) where its error estimate is least: the ladder's
    own change |D(h_k) - D(h_{k+1})| plus the rounding 10 ε |f| / h_{k+1} (numerical differentiation's usual
    choice, made without the derivative under test; the step a checkpoint needs shrinks as L_t varies faster
    in x, on a divergent curve or near a sign change of ∂L_t).
    """
    h = EPS**0.2 * scale * 2.0 ** -np.arange(rungs + 1)
    D = np.array([central_difference(f, x0, hk) for hk in h])
    error = np.abs(np.diff(D, axis=0)) + 10 * EPS * np.abs(f(x0))[None, :] / h[1:, None]
    k = np.argmin(error, axis=0)
    return D[k + 1, np.arange(D.shape[1])]


def relative_error(a, b):
    err = np.abs(a - b) / np.maximum(np.abs(a), np.abs(b)).clip(1e-300)
    return np.where(a == b, 0.0, err)             # t = 0: both derivatives are exactly zero


def fd_errors(p, sgd, steps, **noise):
    """(max relative error of ∂/∂lr, of ∂/∂momentum) against central differences of sgdlab.predict."""
    g = sgdlab.predict_gradient(p, sgd, steps, **noise)
    assert g.steps.size == g.curve.steps.size

    def loss(lr, momentum):
        c = sgdlab.predict(p, sgd.replace(lr=lr, momentum=momentum), steps, record=g.steps, method="recursion",
                           **noise)
        assert c.steps.size == g.steps.size
        return c.loss

    fa = finite_differences(lambda x: loss(x, sgd.momentum), sgd.lr, sgd.lr)
    fb = finite_differences(lambda x: loss(sgd.lr, x), sgd.momentum, 1 - abs(sgd.momentum))
    return float(relative_error(g.d_lr, fa).max()), float(relative_error(g.d_momentum, fb).max())


def lanczos_problem():
    X = RNG.normal(size=(200, 40)) * np.linspace(1.0, 0.05, 40)
    y = X @ RNG.normal(size=40) + 0.3 * RNG.normal(size=200)
    return sgdlab.Problem.from_features(X, y, spectrum="lanczos", rank=12, probes=8, deflated=4)


CASES = {
    "power-law": (lambda: sgdlab.Problem.power_law(dim=200, noise_variance=0.01), {}, "online"),
    "digits-se": (lambda: sgdlab.data.digits(n=300), {"noise": "se"}, "without"),     # SE(τ̂), τ fitted
    "lanczos": (lanczos_problem, {"noise": "se", "tau": 1.0}, "without"),             # multiplicities m_k
}


def check_against_central_differences(case, momentum, batch):
    make, noise, sampling = CASES[case]
    p = make()
    crit = sgdlab.critical_lr(p, momentum, batch, sampling=sampling, **noise)
    for fraction, steps in ((0.3, 600), (0.9, 600), (1.2, 150)):    # 1.2: divergent, short of the guard
        sgd = sgdlab.SGD(lr=fraction * crit, momentum=momentum, batch=batch, sampling=sampling)
        ea, eb = fd_errors(p, sgd, steps, **noise)
        assert ea <= 1e-6 and eb <= 1e-6, (fraction, ea, eb)


@pytest.mark.parametrize("case,momentum,batch", [("power-law", 0.0, 1), ("power-law", -0.5, 8), ("power-law", 0.9, 8),
                                                 ("digits-se", 0.9, 1), ("digits-se", -0.5, 8), ("lanczos", 0.0, 8),
                                                 ("lanczos", 0.9, 1)])
def test_gradients_match_central_differences_to_1e_6_at_every_checkpoint(case, momentum, batch):
    check_against_central_differences(case, momentum, batch)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("momentum", [0.0, -0.5, 0.9])
@pytest.mark.parametrize("batch", [1, 8])
def test_gradients_match_central_differences_on_the_whole_grid_of_cases(case, momentum, batch):
    check_against_central_differences(case, momentum, batch)


def heavy_ball_polynomials(lam, e0, lr, momentum, steps, variable):
    """The loss ½λe_t² of one noiseless mode as a polynomial in u = lr - α (or u = momentum - β), the other
    fixed: v-form heavy ball, e_1 = (1 - αλ) e_0, e_{t+1} = (1 + β - αλ) e_t - β e_{t-1}; its u¹ coefficient
    is the derivative at the point."""
    P = np.polynomial.Polynomial
    alpha, beta = (P([lr, 1.0]), P([momentum])) if variable == "lr" else (P([lr]), P([momentum, 1.0]))
    e = [P([e0]), (1 - alpha * lam) * e0]
    for _ in range(steps - 1):
        e.append(((1 + beta - alpha * lam) * e[-1] - beta * e[-2]).cutdeg(2))    # only u⁰, u¹ matter
    return [0.5 * lam * ei * ei for ei in e]


@pytest.mark.parametrize("momentum", [0.0, -0.4, 0.6])
def test_one_noiseless_mode_has_the_derivative_of_its_loss_polynomial(momentum):
    lam, e0, lr, T = 1.5, 2.0, 0.3, 25
    p = sgdlab.Problem.from_eigenvalues([lam], target=[e0])
    g = sgdlab.predict_gradient(p, sgdlab.SGD(lr=lr, momentum=momentum), T, noise=NoiseModel(0.0, 0.0))
    for variable, got in (("lr", g.d_lr), ("momentum", g.d_momentum)):
        exact = np.array([L.coef[1] if L.degree() >= 1 else 0.0
                          for L in heavy_ball_polynomials(lam, e0, lr, momentum, T, variable)])
        np.testing.assert_allclose(got, exact, rtol=1e-12, atol=0)
    if momentum == 0.0:                 # L_t = ½λA₀(1-αλ)^{2t}: ∂L_t/∂α = -tλ²A₀(1-αλ)^{2t-1}
        t = np.arange(T + 1)
        np.testing.assert_allclose(g.d_lr, -t * lam**2 * e0**2 * (1 - lr * lam) ** (2 * t - 1), rtol=1e-13)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_kernel_is_the_numpy_reference_and_the_curve_is_predicts(case):
    make, noise, sampling = CASES[case]
    p = make()
    crit = sgdlab.critical_lr(p, 0.7, 4, sampling=sampling, **noise)
    sgd = sgdlab.SGD(lr=0.8 * crit, momentum=0.7, batch=4, sampling=sampling)
    nm = sgdlab.linear.resolve_noise(p, batch=4, sampling=sampling, **noise)
    mult = np.ones(p.dim) if p.multiplicity is None else p.multiplicity
    rec = sgdlab.checkpoints(800)
    args = (p.eigenvalues, mult, p.initial_moments, p.noise_variance, sgd.lr, sgd.momentum, nm.coupling,
            nm.self_noise, rec, 1e100 * p.initial_loss)
    fast, ref = tangent_numba(*args), tangent_reference(*args)
    assert fast[3] == ref[3] == rec.size
    for a, b in zip(fast[:3], ref[:3]):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=0)
    g = sgdlab.predict_gradient(p, sgd, 800, **noise)
    c = sgdlab.predict(p, sgd, 800, method="recursion", **noise)
    assert np.array_equal(g.curve.loss, c.loss) and np.array_equal(g.steps, c.steps)
    np.testing.assert_allclose(fast[0], c.loss, rtol=1e-13, atol=0)     # the kernel's own loss is predict's


def test_a_divergent_configuration_has_predicts_status_and_finite_derivatives_up_to_its_truncated_curve():
    p = sgdlab.Problem.power_law(dim=100)
    sgd = sgdlab.SGD(lr=1.5 * sgdlab.critical_lr(p, 0.5, 4), momentum=0.5, batch=4)
    g = sgdlab.predict_gradient(p, sgd, 100_000)
    c = sgdlab.predict(p, sgd, 100_000, method="recursion")
    assert g.status == c.status == "diverges" and c.meta["truncated"]
    assert np.array_equal(g.steps, c.steps)
    assert np.isfinite(g.d_lr).all() and np.isfinite(g.d_momentum).all() and g.d_lr[-1] > 0
    assert None not in g.to_dict()["d_lr"]


def test_a_huge_lr_on_a_tiny_spectrum_is_the_same_problem_in_other_units():
    # (λ, α, A₀) -> (cλ, α/c, A₀/c²·s): L -> s L, ∂L/∂α -> s c ∂L/∂α, ∂L/∂β -> s ∂L/∂β; α² overflows at c = 1e-160
    c, s, scale = 1e-160, 1e-120, 1e-120 / 1e-160
    sgd = sgdlab.SGD(lr=0.2, momentum=0.3, batch=2)
    base = sgdlab.Problem.from_eigenvalues([1.0, 2.0, 3.0], target=[1.0, 0.5, 0.2], noise_variance=0.1)
    tiny = sgdlab.Problem.from_eigenvalues(c * base.eigenvalues, target=np.sqrt(scale) * base.target,
                                           noise_variance=s * 0.1)
    g0 = sgdlab.predict_gradient(base, sgd, 50)
    g1 = sgdlab.predict_gradient(tiny, sgd.replace(lr=0.2 / c), 50)
    np.testing.assert_allclose(g1.loss, s * g0.loss, rtol=1e-12)
    np.testing.assert_allclose(g1.d_lr, s * c * g0.d_lr, rtol=1e-12, atol=1e-12 * s * c * np.abs(g0.d_lr).max())
    np.testing.assert_allclose(g1.d_momentum, s * g0.d_momentum, rtol=1e-12,
                               atol=1e-12 * s * np.abs(g0.d_momentum).max())


def test_log_lr_derivative_and_a_schedule_refused_naming_sgd():
    p = sgdlab.Problem.power_law(dim=20)
    g = sgdlab.predict_gradient(p, sgdlab.SGD(lr=0.3, momentum=0.2), 10)
    np.testing.assert_array_equal(g.d_log_lr, 0.3 * g.d_lr)
    with pytest.raises(InputError, match="^sgd: "):
        sgdlab.predict_gradient(p, sgdlab.SGD(lr=sgdlab.schedules.cosine(0.3, 10)), 10)
