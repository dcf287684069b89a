"""Optimizers and learning-rate schedulers, at PyTorch's paths (`tinygrad_cnn.optim.lr_scheduler`)."""

from .optimizer import SGD, Adam, AdamW, Optimizer

__all__ = ["Adam", "AdamW", "Optimizer", "SGD"]
