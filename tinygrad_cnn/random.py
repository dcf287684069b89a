"""The one random generator behind factories, initialisers, dropout and shuffling."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Make every later random draw of tinygrad_cnn repeatable."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def generator() -> np.random.Generator:
    return _generator


class Generator:
    """A random generator of its own, as `torch.Generator`: `Generator().manual_seed(0)` gives repeatable draws
    (shuffling in `DataLoader(generator=)`, `random_split(generator=)`) that leave `tc.manual_seed`'s alone.

    Like PyTorch's, a fresh Generator starts from the fixed seed 67280421310721; the numbers drawn differ from
    PyTorch's (NumPy's PCG64 inside).
    """

    DEFAULT_SEED = 67280421310721  # torch.Generator().initial_seed()

    def __init__(self, device: str = "cpu") -> None:
        if str(device) != "cpu":
            raise ValueError(f"Generator: tinygrad_cnn computes with NumPy on the CPU, got device={device!r}")
        self.manual_seed(self.DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Restart from `seed` (a non-negative int); returns self, so `Generator().manual_seed(0)` chains."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"Generator.manual_seed: seed must be a non-negative int, got {seed!r}")
        self._seed = int(seed)
        self._numpy = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        """The seed this generator was last started from."""
        return self._seed

    def __repr__(self) -> str:
        return f"Generator(initial_seed={self._seed})"


def numpy_generator(generator: Generator | np.random.Generator | None) -> np.random.Generator:
    """The NumPy generator behind `generator`; None means `tc.manual_seed`'s global one."""
    if generator is None:
        return _generator
    if isinstance(generator, Generator):
        return generator._numpy
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be a tc.Generator, a numpy.random.Generator or None, "
                    f"got {type(generator).__name__}")
