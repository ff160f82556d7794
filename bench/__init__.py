"""Waymark's benchmarks: real server processes over loopback, each figure beside a baseline
taken in the same run (`make bench`, `make bench FULL=1`; results in docs/benchmarks.md)."""
