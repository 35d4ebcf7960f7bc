"""Built-in solvers (placeholder until implemented)."""
