"""Pydantic models at the boundaries: what travels between the packages and lands in JSON files."""
