"""Built-in paths (placeholder until implemented)."""
