"""Use cases of the registry. Each takes a session and primitives, enforces the rules, and commits."""
