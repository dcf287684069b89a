"""`grad_fn` as PyTorch shows it: `name()`, `next_functions` down to `AccumulateGrad` nodes of the leaves."""

import numpy as np
import pytest

import tinygrad_cnn as tc


def _walk(lib, a, b, c):
    """Each node's name and its edges: ("leaf", the leaf's position) or the child's description or None."""
    leaves = {id(a): 0, id(b): 1, id(c): 2}

    def describe(node):
        if node is None:
            return None
        if hasattr(node, "variable"):
            return ("leaf", leaves[id(node.variable)])
        return (node.name(), tuple(describe(child) for child, _ in node.next_functions))

    y = a * b + c * 2
    return describe(y.grad_fn)


def test_next_functions_lead_to_the_leaves():
    a, b, c = (tc.tensor([1.0, 2.0], requires_grad=True) for _ in range(3))
    assert _walk(tc, a, b, c) == ("AddBackward0", (("MulBackward0", (("leaf", 0), ("leaf", 1))),
                                                   ("MulBackward0", (("leaf", 2), None))))


def test_next_functions_match_pytorch():
    torch = pytest.importorskip("torch")
    ours = _walk(tc, *(tc.tensor([1.0, 2.0], requires_grad=True) for _ in range(3)))
    theirs = _walk(torch, *(torch.tensor([1.0, 2.0], requires_grad=True) for _ in range(3)))
    assert ours == theirs


def test_a_users_function_is_named_as_pytorch_names_it_and_a_leaf_has_no_grad_fn():
    class Square(tc.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return 2 * x * grad_output

    x = tc.tensor(np.ones(2), requires_grad=True)
    y = Square.apply(x)
    assert y.grad_fn.name() == "SquareBackward" and x.grad_fn is None
    assert y.grad_fn.next_functions[0][0].variable is x
    assert repr(y).endswith("grad_fn=<SquareBackward>)")
