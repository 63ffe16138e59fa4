"""Operators' tools: the `posbot` command line, reports and charts, diagrams, terminal tables."""
