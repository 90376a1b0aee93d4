"""The dockable panels of the main window; each binds to the workspace and shows a selection."""
