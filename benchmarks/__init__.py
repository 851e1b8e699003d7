"""The benchmark harness (`kam bench`, `make bench`): installed as the package `kambench` (see pyproject.toml).

Not part of `make test`: it copies the book and times the new-wave command, the no-op build and
synthetic waves of up to a million respondents. Dated results are kept beside it
(`benchmarks/<date>.md`).
"""
