"""`torch.nn`: only `functional` is provided."""

from gradstudio.engine.nn import functional

__all__ = ["functional"]
