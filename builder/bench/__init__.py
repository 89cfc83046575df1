"""Benchmark suites and the parsers that turn their outputs into ``esdc.bench/1`` numbers.

``api`` is the entry point (:func:`builder.bench.api.parse_paths`, ``parse_text``); ``detect``
decides which suites a text holds; ``osu``, ``nccl_tests``, ``nest`` and ``mpi4py_bench`` each
parse one suite; ``text`` cleans lines and converts cells; ``render`` prints tables for people.
"""
