"""Execution: the steps that reach a target, the model checker that proves every
order and prefix of them safe, the timeline, and the bash script that runs them.

May import ``placement.models`` and ``placement.scenario`` only: no rule, no solver.
"""
