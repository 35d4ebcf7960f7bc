"""Built-in models (placeholder until implemented)."""
