"""Backward, Zero Grad and Step Backward: running a pass and showing it on the canvas."""
