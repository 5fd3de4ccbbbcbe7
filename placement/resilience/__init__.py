"""Resilience: does a cluster survive any K node failures (the sweep), recoveries
composed from smaller ones, and the least failures that lose data.

May import ``placement.models``, ``placement.scenario``, ``placement.rules``,
``placement.execute`` and ``placement.solve``.
"""
