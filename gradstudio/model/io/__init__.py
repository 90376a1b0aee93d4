"""The graph file format, its migrations, and code export: how a document leaves and enters the app."""
