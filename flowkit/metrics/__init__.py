"""Built-in metrics (placeholder until implemented)."""
