"""Harness shared by the tests and the benchmarks: real servers, started and stopped here."""
