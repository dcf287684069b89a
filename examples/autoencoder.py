"""Train a small convolutional autoencoder on the bundled 8x8 digits and picture what it reconstructs.

What it teaches: an encoder of strided Conv2d layers squeezes each 1x8x8 digit into a 16x2x2 code (64 numbers
against the image's 64, but spread over only 4 positions), and a decoder of ConvTranspose2d layers (the
adjoint of a strided convolution: each input position paints a kernel-sized patch of the output) grows it back
to 8x8. Trained with the mean squared error between input and output, it learns to rebuild digits it has never
seen. The figure shows test digits above their reconstructions (matplotlib, the `examples` extra).

    python examples/autoencoder.py                 # 30 epochs, writes runs/autoencoder/reconstructions.png
    python examples/autoencoder.py --quick
"""

from __future__ import annotations

from pathlib import Path

import _common
import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn, optim


def build_model() -> nn.Sequential:
    """(N, 1, 8, 8) images in [0, 1] -> (N, 1, 8, 8) reconstructions in [0, 1]."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),                       # 8 x 4 x 4
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),                      # 16 x 2 x 2: the code
        nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),  # 8 x 4 x 4
        nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid(),  # 1 x 8 x 8
    )


def train(images: np.ndarray, epochs: int, batch_size: int, lr: float, seed: int) -> tuple[nn.Module, list[float]]:
    """The autoencoder trained on `images` (N, 1, 8, 8); returns it and the mean loss of each epoch."""
    tc.manual_seed(seed)
    model = build_model()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    loader = tc.utils.data.DataLoader(tc.utils.data.TensorDataset(images), batch_size=batch_size, shuffle=True,
                                      seed=seed)
    losses = []
    for epoch in range(1, epochs + 1):
        total = 0.0
        for (batch,) in _common.progress(loader, total=len(loader), desc=f"epoch {epoch}/{epochs}"):
            loss = F.mse_loss(model(batch), batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(images))
        _common.say(f"epoch {epoch:2d}/{epochs}  reconstruction loss {losses[-1]:.4f}")
    return model, losses


def reconstruct(model: nn.Module, images: np.ndarray) -> np.ndarray:
    """The model's reconstructions of `images` (N, 1, 8, 8), in eval mode and without recording a graph."""
    model.eval()
    with tc.no_grad():
        return model(tc.tensor(images)).numpy()


def save_figure(images: np.ndarray, reconstructions: np.ndarray, path: Path) -> Path:
    """Test digits (top row) above their reconstructions (bottom row), as a PNG."""
    plt = _common.require("matplotlib.pyplot", "the figure")
    columns = len(images)
    figure, axes = plt.subplots(2, columns, figsize=(1.2 * columns, 2.6), squeeze=False)
    for column in range(columns):
        for row, (picture, title) in enumerate([(images, "input"), (reconstructions, "rebuilt")]):
            axes[row, column].imshow(picture[column, 0], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            axes[row, column].set_xticks([])
            axes[row, column].set_yticks([])
            if column == 0:
                axes[row, column].set_ylabel(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    _common.announce(path, "inputs and reconstructions")
    return path


def main(argv: list[str] | None = None) -> dict:
    parser = _common.make_parser(__doc__, epochs=30, batch_size=64, lr=1e-2, out="runs/autoencoder")
    parser.add_argument("--show", type=_common.positive_int, default=10, help="test digits in the figure")
    args = parser.parse_args(argv)
    x_train, _, x_test, _ = _common.digit_arrays()
    if args.quick:
        args.epochs = 1
        x_train = x_train[:256]
    model, losses = train(x_train, args.epochs, args.batch_size, args.lr, args.seed)
    shown = x_test[:args.show]
    reconstructions = reconstruct(model, shown)
    test_loss = float(np.mean((reconstruct(model, x_test) - x_test) ** 2))
    print(f"test reconstruction loss {test_loss:.4f} (predicting the mean image: "
          f"{float(np.mean((x_train.mean(axis=0) - x_test) ** 2)):.4f})")
    path = save_figure(shown, reconstructions, args.out / "reconstructions.png")
    return dict(losses=losses, test_loss=test_loss, figure=path, model=model)


if __name__ == "__main__":
    main()
