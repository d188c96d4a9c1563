"""The benchmark and stress command: what a DDL costs under load, and proof that nothing was lost.

`python -m conformance bench --ddl=FILE [--dsn=URL]` (or `conformance-bench`) runs append and
replay workloads in stores of its own, beside the same workloads on a bare table of the
same shape, checks the invariants of every store in SQL before dropping it, and prints a
table, a JSON file and, on request, PNG charts.
"""
