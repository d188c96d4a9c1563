"""Spec-conformance test kit for SQL event store DDL."""

__version__ = "0.1.0"
