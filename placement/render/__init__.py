"""Rendering for people and for other tools: tables, the Kafka tools' JSON files,
the cluster file ``placement import`` writes, the demo (and, later, pictures).

May import anything below it: ``placement.models``, ``placement.scenario``,
``placement.rules``, ``placement.execute``, ``placement.solve``, ``placement.resilience``,
``placement.imports``.
"""
