"""Built-in data (placeholder until implemented)."""
