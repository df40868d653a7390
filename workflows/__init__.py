"""Orchestration: the durable workflows. Rules live in pure modules, I/O in activities."""
