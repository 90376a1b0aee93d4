"""Dialogs opened from the canvas: the gradient argument of a non-scalar Backward, and the gradient check."""
