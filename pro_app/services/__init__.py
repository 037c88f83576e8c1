"""Verbs of the domain: they take plain values, may flush but never commit, write audit events."""
