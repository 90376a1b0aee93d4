"""GradStudio: build autograd graphs by hand and watch gradients flow."""

__version__ = "0.1.0"
