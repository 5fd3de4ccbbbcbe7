"""Rendering for people: tables, Kafka files, and self-contained HTML/SVG pictures of plans, checks and the demo."""
