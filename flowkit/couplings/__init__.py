"""Built-in couplings (placeholder until implemented)."""
