"""The KIM benchmark (issue 7): datasets, load runs, the bare-stack floor, page weight.

Never part of ``make test``; run with ``make bench``. See bench/README.md.
"""
