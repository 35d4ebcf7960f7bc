"""Built-in objectives (placeholder until implemented)."""
