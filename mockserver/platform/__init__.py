"""Cross-module platform mechanics: auth, request input, credits, limits, lists, metadata."""
