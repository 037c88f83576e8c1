"""Instruments as data: load and validate instrument files, text packs and the visit plan; score."""
