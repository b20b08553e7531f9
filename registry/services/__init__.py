"""Use cases: load facts, call the rules and the domain, write, commit once."""
