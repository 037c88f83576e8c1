"""Kinds of instrument: each provides its definition, screens, sealing and export once.

See base.py for the interface and registry.py for the kinds there are.
"""
