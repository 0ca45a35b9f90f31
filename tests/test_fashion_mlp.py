"""The Fashion-MNIST MLP test bed of seed 002 (docs/theory/momentum-scaling.md §B.7): the paper's real-data setting.

Each test states the claim it checks.  The data tests use a tiny network (8 images at 4x4 pixels)
and skip, with the reason, where Fashion-MNIST is not installed; the data-absent tests need no data.
"""

import numpy as np
import pytest

from sgdlab import InputError, manifold as mf
from sgdlab.data.loaders import fashion_missing
from sgdlab.manifold._model import ManifoldModel


@pytest.fixture(scope="module")
def tiny():
    why = fashion_missing()
    if why:
        pytest.skip(why)
    return mf.FashionMLP(n_data=8, side=4, hidden=3)            # p = 3·17 = 51 > N = 8


def finite_difference(fun, theta, h=1e-6):
    return np.stack([(fun(theta + h * e) - fun(theta - h * e)) / (2 * h) for e in np.eye(theta.size)], axis=-1)


def test_the_networks_gradients_match_finite_differences(tiny):
    """Jacobian, label-noise gradient (ε = 0: ∇L), tr G and ∇tr G of the closed forms against central differences."""
    theta = tiny.start + 0.1 * np.random.default_rng(0).standard_normal(tiny.dim)
    assert np.abs(tiny.jacobian(theta) - finite_difference(tiny.residuals, theta)).max() < 1e-6
    grad = tiny.noisy_gradient(theta, 0.0, np.random.default_rng(1))
    assert np.abs(grad - finite_difference(tiny.loss, theta)).max() < 1e-7
    assert float(tiny.trace_hessian(theta)) == pytest.approx(np.sum(tiny.jacobian(theta) ** 2) / tiny.n, rel=1e-12)
    assert np.abs(tiny.trace_hessian_gradient(theta) - finite_difference(tiny.trace_hessian, theta)).max() < 1e-6


def test_the_label_noise_gradient_is_the_generic_law(tiny):
    """Back-propagation gives g = ∇L - (ε/N) Σ ξ_i ∇f_i with the same draws as the generic Jacobian form (§B.1)."""
    theta = np.stack([tiny.start, 1.1 * tiny.start])
    fast = tiny.noisy_gradient(theta, 0.3, np.random.default_rng(2))
    generic = ManifoldModel.noisy_gradient(tiny, theta, 0.3, np.random.default_rng(2))
    assert np.abs(fast - generic).max() < 1e-13


def test_the_start_is_an_interpolating_minimum_on_a_manifold_of_them(tiny):
    """The start fits every image (zero loss, zero gradient), J has full row rank N, so the interpolating
    set is a manifold of dimension p - N; the flattest point found on it is flatter, still interpolates,
    and C_lin = (ε²k/N)^(1/3) is finite (§B.2, §B.5)."""
    theta = tiny.start
    assert np.abs(tiny.residuals(theta)).max() < 1e-12 and float(tiny.loss(theta)) < 1e-24
    assert np.abs(tiny.gradient(theta)).max() < 1e-12
    assert np.linalg.matrix_rank(tiny.jacobian(theta)) == tiny.n
    assert mf.tangent_basis(tiny, theta).shape == (tiny.dim, tiny.dim - tiny.n)
    flatter = mf.flattest_point(tiny, theta, max_iter=100)          # the first steps of the descent (seconds)
    assert np.abs(tiny.residuals(flatter)).max() < 1e-9
    floor = float(tiny.trace_hessian(flatter))
    assert floor < float(tiny.trace_hessian(theta))
    clin = mf.c_lin(tiny, 0.3, k=mf.effective_curvature(tiny, theta, floor))
    assert np.isfinite(clin) and clin > 0


def test_the_inputs_are_centred_images_of_unit_mean_square_norm_with_centred_binary_labels(tiny):
    assert tiny.x.shape == (8, 16) and np.abs(tiny.x.mean(axis=0)).max() < 1e-12
    assert np.mean(np.sum(tiny.x ** 2, axis=1)) == pytest.approx(1.0, rel=1e-12)
    assert abs(tiny.y.mean()) < 1e-12 and set(np.round(tiny.y - tiny.y.min(), 12)) <= {0.0, 2.0}


def test_absent_data_is_a_one_line_error_naming_the_folder_and_the_install(tmp_path):
    with pytest.raises(InputError, match="apt-get install dataset-fashion-mnist") as err:
        mf.FashionMLP(n_data=8, side=4, hidden=3, path=str(tmp_path))
    assert str(tmp_path) in str(err.value) and "SGDLAB_FASHION_DIR" in str(err.value) and "\n" not in str(err.value)


def test_without_the_data_the_claim_cannot_check_and_says_why(tmp_path, monkeypatch):
    from sgdlab.claims import get
    monkeypatch.setattr("sgdlab.data.loaders.FASHION_DIR", tmp_path)
    r = get("seed002.momentum-scaling-mlp").check(False, 0)
    assert r.status == "cannot-check" and str(tmp_path) in r.reason and "dataset-fashion-mnist" in r.reason


@pytest.mark.parametrize("kw,name", [(dict(side=5), "side"), (dict(n_data=1), "n_data"),
                                     (dict(n_data=40, side=4, hidden=2), "hidden"), (dict(activation="gelu"), "activation")])
def test_bad_sizes_are_refused_naming_the_parameter(kw, name):
    with pytest.raises(InputError, match=name):
        mf.FashionMLP(**{"n_data": 8, "side": 4, "hidden": 3, **kw})


def test_the_presets_keep_the_old_names_and_add_the_fashion_mlp():
    from sgdlab.manifold.presets import PRESETS, QUICK, TEST_BEDS, build
    assert {"mlp", "teacher-student", "mlp-fashion"} <= set(TEST_BEDS) <= set(PRESETS) & set(QUICK)
    assert type(build("mlp")) is type(build("teacher-student")) is mf.TeacherStudent
