"""Verbs of the domain. They take plain values, may flush but never commit, and write audit events."""
