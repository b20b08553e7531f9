"""matching_engine package."""
