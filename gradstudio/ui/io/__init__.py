"""File commands (open, save, examples) and image export."""
