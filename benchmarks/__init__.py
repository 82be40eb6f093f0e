"""Benchmarks of a real server: run from the project root, e.g. `python -m benchmarks.load`.

See benchmarks/README.md; the shared parts are in benchmarks/harness/.
"""
