"""Benchmarks (make bench); never timed tests."""
