"""Benchmarks against the local real control plane (`make bench`); see bench/run.py."""
