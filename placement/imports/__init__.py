"""Importers: real tool outputs in (kubectl, pxctl, the Kafka tools), out as a
cluster file (CONTRACT section 6). They arrive with issue 11.

May import ``placement.models`` only.
"""
