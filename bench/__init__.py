"""Benchmarks and load tools that run against the service from outside: the load generator (HTTP, many clients)
and the writer bench (one book's writer in process, without HTTP). They may import ``api``, ``registry`` and
``matching_engine``; nothing imports ``bench``. The engine's own pure bench stays in ``matching_engine/bench.py``.
"""
