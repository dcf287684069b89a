"""Optimizers and learning-rate schedulers, at PyTorch's paths (`tinygrad_cnn.optim.lr_scheduler`)."""

from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Adam", "AdamW", "Optimizer", "SGD"]
