"""Reusable widgets: attribute fields, the tensor view and its charts."""
