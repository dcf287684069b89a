"""See what backprop does: draw the graph of an expression and of one CNN training step.

What it teaches: `tc.draw_graph` and `tc.print_graph`.
  (a) micrograd's classic `L = (a*b + c) * f`, every value and gradient on the picture: the chain rule
      can be checked by hand (dL/da = b * f, and so on);
  (b) one training step of the digits CNN from `train_digits.py`: the ops grouped into one box per
      layer (`0: Conv2d`, `1: BatchNorm2d`, ...), parameters named as in the model, each edge with the
      shape it carries and each parameter with its gradient norm after `backward()`.

Run it from the repository root (part (b) needs the `examples` extra, scikit-learn, for the data):

    python examples/visualize_graph.py              # writes runs/graphs/expression.svg, train_step.svg
    python examples/visualize_graph.py --quick --out /tmp/graphs

SVG needs Graphviz's `dot` program (Debian/Ubuntu `apt-get install graphviz`, macOS `brew install
graphviz`, conda `conda install -c conda-forge graphviz`); without it the DOT source is written instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _common

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import optim


def expression(out: Path) -> Path:
    """(a) micrograd's `L = (a*b + c) * f` with each value and gradient; prints it as text too."""
    a = tc.tensor(2.0, requires_grad=True)
    b = tc.tensor(-3.0, requires_grad=True)
    c = tc.tensor(10.0, requires_grad=True)
    f = tc.tensor(-2.0, requires_grad=True)
    e = a * b
    d = e + c
    L = d * f
    L.backward()
    # Naming the intermediates too puts their values on the ops that made them.
    names = dict(a=a, b=b, c=c, f=f, e=e, d=d, L=L)
    tc.print_graph(L, params=names)
    graph = tc.draw_graph(L, params=names, show_grads=True, show_shapes=False)  # all scalars here
    graph.graph_attr["rankdir"] = "LR"  # left to right, as micrograd draws it
    return _common.write_graph(graph, out / "expression", "(a) L = (a*b + c) * f")


def training_step(out: Path, quick: bool, seed: int) -> Path:
    """(b) one Adam step of the digits CNN on one batch, drawn after backward with gradient norms."""
    import train_digits  # the examples' digits CNN, so this draws the model that script trains

    train_images, train_labels, _, _ = _common.digit_arrays()
    batch = 8 if quick else 32
    tc.manual_seed(seed)
    model = train_digits.build_model()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    images, labels = tc.tensor(train_images[:batch]), tc.tensor(train_labels[:batch])
    loss = F.cross_entropy(model(images), labels)
    optimizer.zero_grad()
    loss.backward()  # the graph's buffers are freed; its structure is still there to draw
    optimizer.step()
    names = {**dict(model.named_parameters()), **dict(model.named_buffers()), "images": images, "labels": labels}
    graph = tc.draw_graph(loss, params=names, show_grads=True)
    _common.say(f"(b) one training step: loss {loss.item():.4f}, {graph.source.count(' -> ')} edges")
    return _common.write_graph(graph, out / "train_step", "(b) one training step of the digits CNN")


def main(argv: list[str] | None = None) -> tuple[Path, Path]:
    """Parse the flags (`argv`, default sys.argv), draw both graphs; returns the two files written."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/graphs"), help="folder for the SVGs "
                        "(default runs/graphs)")
    parser.add_argument("--quick", action="store_true", help="a batch of 8 images instead of 32 (for tests)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the model's initialisation (default 0)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    return expression(args.out), training_step(args.out, args.quick, args.seed)


if __name__ == "__main__":
    main()
