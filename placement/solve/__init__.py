"""Solving: the decision space, the CP-SAT and Z3 back ends, the objective levels,
the greedy start, leadership, the planner, independent verification and proofs.

May import ``placement.models``, ``placement.scenario``, ``placement.rules`` and
``placement.execute`` (a plan leaves the planner only with its steps proven safe).
"""
