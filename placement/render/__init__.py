"""Rendering for people and for other tools: tables, the Kafka tools' JSON files,
the cluster file ``placement import`` writes, the demo, and self-contained HTML/SVG
pictures of plans, checks and the demo.

May import anything below it: ``placement.models``, ``placement.scenario``,
``placement.rules``, ``placement.execute``, ``placement.solve``, ``placement.resilience``,
``placement.imports``.
"""
