"""`torch.nn.functional`: activations, `linear` and the common losses."""

from __future__ import annotations

from gradstudio.engine.ops.pointwise import relu, sigmoid, tanh
from gradstudio.engine.ops.reduction import log_softmax, softmax

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax"]
