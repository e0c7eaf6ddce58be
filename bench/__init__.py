"""Benchmarks: each prints its numbers and ratios; results live in docs/."""
