"""`torch.nn`: `Module`, `Parameter`, the common layers and losses, `init` and `functional`."""

from gradstudio.engine.nn import functional, init
from gradstudio.engine.nn.layers import (
    GELU,
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    Identity,
    L1Loss,
    LeakyReLU,
    Linear,
    MSELoss,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from gradstudio.engine.nn.module import Module
from gradstudio.engine.nn.parameter import Parameter

__all__ = ["functional", "init", "Module", "Parameter", "Linear", "Sequential", "Identity", "Flatten", "ReLU",
           "Sigmoid", "Tanh", "Softmax", "LeakyReLU", "GELU", "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss",
           "CrossEntropyLoss", "Dropout"]
