"""The examples run start to finish in --quick mode (in-process, writing under tmp_path) and do what they say."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def example():
    """Import an example by its file name, as `python examples/NAME.py` would find it and `_common`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(EXAMPLES))
        yield importlib.import_module


@pytest.fixture(scope="module")
def digits_run(example, tmp_path_factory):
    """One quick train_digits run shared by the tests that inspect what it wrote."""
    pytest.importorskip("sklearn", reason="the digits come from scikit-learn (the examples extra)")
    out = tmp_path_factory.mktemp("digits")
    return example("train_digits").main(["--quick", "--out", str(out)]), out


# ----- _common -----------------------------------------------------------------------------------
def test_require_names_the_missing_package_and_how_to_install_it(example):
    common = example("_common")
    expected = r"(?s)needs the optional package 'no_such_package_zz'.*pip install 'tinygrad_cnn\[examples\]'"
    with pytest.raises(SystemExit, match=expected):
        common.require("no_such_package_zz", "this test")


def test_digit_examples_without_scikit_learn_say_what_to_install(example, monkeypatch, tmp_path):
    # A None entry in sys.modules makes `import sklearn` raise ImportError, as if it were not installed.
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(SystemExit, match=r"(?s)needs the optional package 'scikit-learn'.*tinygrad_cnn\[examples\]"):
        example("train_digits").main(["--quick", "--out", str(tmp_path)])


@pytest.mark.parametrize("flag", [["--epochs", "0"], ["--batch-size", "-3"], ["--lr", "0"], ["--lr", "nan"]])
def test_bad_flags_are_refused_with_the_value(example, flag, capsys):
    with pytest.raises(SystemExit) as raised:
        example("x_vs_o").main([*flag, "--quick"])
    assert raised.value.code == 2
    assert flag[1] in capsys.readouterr().err


def test_upscale_keeps_constant_images_constant_and_sizes_right(example):
    images = np.full((2, 1, 8, 8), 0.75, dtype=np.float32)
    upscaled = example("_common").upscale(images, 28)
    assert upscaled.shape == (2, 1, 28, 28) and upscaled.dtype == np.float32
    np.testing.assert_allclose(upscaled, 0.75, rtol=1e-6)


def test_upscale_matches_torch_bilinear_interpolation(example):
    torch = pytest.importorskip("torch", reason="comparison with torch's interpolate")
    images = np.random.default_rng(0).random((3, 1, 8, 5))
    expected = torch.nn.functional.interpolate(torch.tensor(images), size=(28, 28), mode="bilinear",
                                               align_corners=False).numpy()
    np.testing.assert_allclose(example("_common").upscale(images, 28), expected, atol=1e-12)


def test_examples_run_without_tqdm_and_say_so(example, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    monkeypatch.delattr(example("_common").progress, "warned", raising=False)
    result = example("x_vs_o").main(["--quick"])
    assert "tqdm is not installed" in capsys.readouterr().out
    assert np.isfinite(result["history"][-1]["loss"])


# ----- train_digits ------------------------------------------------------------------------------
def test_train_digits_quick_learns_and_reports_speed(digits_run, capsys):
    result, _ = digits_run
    (record,) = result["history"]
    assert np.isfinite(record["loss"]) and record["images"] == 256
    assert record["accuracy"] > 0.2  # ten classes: chance is 0.1
    assert result["speed"]["images_per_second"] > 0 and result["speed"]["wall_seconds"] > 0


def test_train_digits_writes_the_graph_of_a_training_step_as_svg(digits_run):
    result, out = digits_run
    assert result["paths"]["graph"] == out / "train_step.svg"
    svg = (out / "train_step.svg").read_text()
    assert "<svg" in svg
    # Leaves are named from model.named_parameters(): the first conv's weight appears by name.
    assert "0.weight" in svg


def test_train_digits_saved_model_reloads_to_the_same_predictions(digits_run, example):
    result, out = digits_run
    train_digits = example("train_digits")
    reloaded = train_digits.build_model()
    reloaded.load_state_dict(tc.load(out / "model.npz"))
    _, _, test_images, _ = train_digits.load_data(quick=True, seed=0)
    trained = result["model"]
    trained.eval()
    reloaded.eval()
    with tc.no_grad():
        np.testing.assert_array_equal(
            reloaded(tc.tensor(test_images)).detach().numpy(), trained(tc.tensor(test_images)).detach().numpy()
        )


def test_train_digits_is_deterministic_for_a_seed(example, tmp_path):
    pytest.importorskip("sklearn", reason="the digits come from scikit-learn (the examples extra)")
    main = example("train_digits").main
    losses = [main(["--quick", "--seed", seed, "--out", str(tmp_path / f"run{i}")])["history"][0]["loss"]
              for i, seed in enumerate(["3", "3", "4"])]
    assert losses[0] == losses[1]
    assert losses[0] != losses[2]


def test_train_digits_writes_dot_source_when_graphviz_dot_is_missing(example, tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn", reason="the digits come from scikit-learn (the examples extra)")
    empty = tmp_path / "no_programs_here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = example("train_digits").main(["--quick", "--out", str(tmp_path / "run")])
    assert result["paths"]["graph"] == tmp_path / "run" / "train_step.dot"
    assert "digraph" in result["paths"]["graph"].read_text()
    assert not (tmp_path / "run" / "train_step.svg").exists()
    assert "`dot` program was not found" in capsys.readouterr().out


# ----- x_vs_o ------------------------------------------------------------------------------------
def test_x_vs_o_images_hold_one_whole_glyph_of_their_class(example):
    x_vs_o = example("x_vs_o")
    images, labels = x_vs_o.make_images(400, np.random.default_rng(1), noise=0.0)
    assert images.shape == (400, 1, 9, 9) and images.dtype == np.float32 and labels.shape == (400, 1)
    assert 0 < labels.mean() < 1
    # Without noise, an image's ink equals a whole X's or O's (of one of the sizes): nothing is cut off.
    ink = {1: {float(x.sum()) for x, _ in map(x_vs_o.glyphs, (5, 7))},
           0: {float(o.sum()) for _, o in map(x_vs_o.glyphs, (5, 7))}}
    for image, label in zip(images, labels[:, 0], strict=True):
        assert float(image.sum()) in ink[int(label)]


def test_x_vs_o_recognises_a_diagonal_and_draws_it(example):
    x_vs_o = example("x_vs_o")
    name, score = x_vs_o.best_match(2 * np.eye(3) - 0.5)
    assert name == "diagonal \\" and score == pytest.approx(1.0)
    assert x_vs_o.best_match(np.fliplr(np.eye(3)))[0] == "diagonal /"
    picture = x_vs_o.filter_picture(np.eye(3) - 0.3 * np.fliplr(np.eye(3)) * (1 - np.eye(3)))
    assert [line[:6] for line in picture] == ["## .--", " .## .", "-- .##"]


def test_x_vs_o_quick_beats_chance_and_prints_every_filter(example, capsys):
    result = example("x_vs_o").main(["--quick", "--seed", "1"])
    (record,) = result["history"]
    assert np.isfinite(record["loss"]) and record["accuracy"] > 0.6  # two classes: chance is 0.5
    printed = capsys.readouterr().out
    assert result["filters"].shape == (8, 1, 3, 3) and len(result["matches"]) == 8
    for index in range(8):
        assert f"filter {index}: most like" in printed


def test_x_vs_o_full_run_learns_diagonal_detectors_that_vote_for_x(example):
    result = example("x_vs_o").main(["--seed", "1"])
    assert result["history"][-1]["accuracy"] >= 0.95
    diagonal = [index for index, (name, score) in enumerate(result["matches"])
                if name.startswith("diagonal") and score >= 0.7]
    assert diagonal, result["matches"]
    assert all(result["votes"][index] > 0 for index in diagonal)


# ----- keras_style_cnn ---------------------------------------------------------------------------
def test_keras_style_cnn_quick_trains_on_upscaled_digits_and_saves(example, tmp_path):
    pytest.importorskip("sklearn", reason="the digits come from scikit-learn (the examples extra)")
    result = example("keras_style_cnn").main(["--quick", "--out", str(tmp_path)])
    (record,) = result["history"]
    assert np.isfinite(record["loss"]) and record["images"] == 32
    state = tc.load(tmp_path / "model.npz")
    assert state["8.weight"].shape == (128, 64 * 14 * 14)


def test_keras_style_cnn_reads_mnist_from_an_npz(example, tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=rng.integers(0, 256, (40, 28, 28), dtype=np.uint8), y_train=rng.integers(0, 10, 40),
             x_test=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), y_test=rng.integers(0, 10, 20))
    train_images, train_labels, test_images, _ = example("keras_style_cnn").load_data(path, False, 0, 32)
    assert train_images.shape == (32, 1, 28, 28) and len(train_labels) == 32 and len(test_images) == 20
    assert train_images.dtype == np.float32 and test_images.dtype == np.float32
    assert abs(train_images.mean()) < 1e-5 and train_images.std() == pytest.approx(1, rel=1e-5)


# ----- feature_maps ------------------------------------------------------------------------------
def test_feature_maps_quick_saves_a_png(example, tmp_path):
    pytest.importorskip("matplotlib", reason="the figure needs matplotlib (the examples extra)")
    pytest.importorskip("sklearn", reason="the digits come from scikit-learn (the examples extra)")
    result = example("feature_maps").main(["--quick", "--out", str(tmp_path)])
    assert result["path"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["kernel_maps"].shape == (4, 8, 8) and result["filter_maps"].shape == (16, 8, 8)
    assert np.isfinite(result["kernel_maps"]).all() and np.isfinite(result["filter_maps"]).all()


def test_feature_maps_uses_the_filters_of_a_checkpoint(example, digits_run, tmp_path):
    pytest.importorskip("matplotlib", reason="the figure needs matplotlib (the examples extra)")
    _, out = digits_run
    result = example("feature_maps").main(["--checkpoint", str(out / "model.npz"), "--index", "4",
                                           "--out", str(tmp_path)])
    _, _, test_images, _ = example("train_digits").load_data(quick=True, seed=0)
    weight = tc.tensor(tc.load(out / "model.npz")["0.weight"])
    expected = F.conv2d(tc.tensor(test_images[4:5]), weight, padding=1).detach().numpy()[0]
    np.testing.assert_array_equal(result["filter_maps"], expected)


def test_feature_maps_refuses_an_index_past_the_test_set(example, tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="the figure needs matplotlib (the examples extra)")
    pytest.importorskip("sklearn", reason="the digits come from scikit-learn (the examples extra)")
    with pytest.raises(SystemExit):
        example("feature_maps").main(["--quick", "--index", "100000", "--out", str(tmp_path)])
    assert "--index must be in [0, 359), got 100000" in capsys.readouterr().err


# ----- autoencoder -------------------------------------------------------------------------------
def test_autoencoder_learns_to_rebuild_digits_and_saves_the_picture(example, tmp_path):
    pytest.importorskip("matplotlib", reason="the figure needs matplotlib (the examples extra)")
    pytest.importorskip("sklearn", reason="the digits come from scikit-learn (the examples extra)")
    result = example("autoencoder").main(["--epochs", "3", "--out", str(tmp_path), "--show", "4"])
    assert result["figure"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["losses"][-1] < result["losses"][0]
    x_train, _, x_test, _ = example("_common").digit_arrays()
    mean_image_loss = float(np.mean((x_train.mean(axis=0) - x_test) ** 2))
    assert result["test_loss"] < mean_image_loss  # better than knowing nothing of the digit


def test_autoencoder_decoder_restores_the_input_shape(example):
    model = example("autoencoder").build_model()
    assert model(tc.zeros(2, 1, 8, 8)).shape == (2, 1, 8, 8)
    assert sum(isinstance(layer, tc.nn.ConvTranspose2d) for layer in model) == 2


# ----- lr_schedule -------------------------------------------------------------------------------
def test_lr_schedule_quick_plots_the_one_cycle_curve_it_trained_with(example, tmp_path):
    pytest.importorskip("matplotlib", reason="the figure needs matplotlib (the examples extra)")
    pytest.importorskip("sklearn", reason="the digits come from scikit-learn (the examples extra)")
    path = tmp_path / "plots" / "curves.png"
    result = example("lr_schedule").main(["--quick", "--lr", "0.02", "--out", str(path)])
    assert result["path"] == path and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    steps = result["steps_per_epoch"]
    assert steps == 8 and len(result["lrs"]) == len(result["losses"]) == steps
    assert np.isfinite(result["losses"]).all()
    # OneCycleLR's cosine phases: up from max_lr / 25 to max_lr until step 0.3 * steps - 1, then down.
    initial, peak = 0.02 / 25, 0.02
    final, rise_end = initial / 1e4, 0.3 * steps - 1

    def anneal(start, end, fraction):
        return end + (start - end) / 2 * (np.cos(np.pi * fraction) + 1)

    expected = [anneal(initial, peak, i / rise_end) if i <= rise_end
                else anneal(peak, final, (i - rise_end) / (steps - 1 - rise_end)) for i in range(steps)]
    np.testing.assert_allclose(result["lrs"], expected, rtol=1e-12)
    assert result["lrs"][0] == pytest.approx(initial) and result["lrs"][-1] == pytest.approx(final)


def test_lr_schedule_cosine_steps_once_per_epoch(example, tmp_path):
    pytest.importorskip("matplotlib", reason="the figure needs matplotlib (the examples extra)")
    pytest.importorskip("sklearn", reason="the digits come from scikit-learn (the examples extra)")
    result = example("lr_schedule").main(["--quick", "--schedule", "cosine", "--out", str(tmp_path / "c.png")])
    assert result["lrs"] == [0.01] * result["steps_per_epoch"] and (tmp_path / "c.png").is_file()
