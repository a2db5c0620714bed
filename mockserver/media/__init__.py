"""Media handling shared by the modules: reading real audio durations (`audio`)."""
