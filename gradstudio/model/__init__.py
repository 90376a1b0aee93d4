"""The graph document, op catalog, evaluation and file format (no Qt)."""
