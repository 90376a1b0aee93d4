"""The PySide6 desktop app: main window, canvas, panels, undo commands and themes."""
