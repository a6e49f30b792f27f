"""The storage benchmark (issue 6): ``python -m bench --help``.

``generate`` writes treaty-shaped graphs of a given size with a
deterministic generator, ``systems`` starts this server and the reference
systems (Oxigraph server in memory and on disk, rdflib-endpoint) on free
loopback ports over the same file, ``workload`` holds the queries and the
load generator (wrk when installed, else an asyncio/httpx client), and
``run`` checks that every system returns the same rows and writes the
report with ratios to the Oxigraph server measured in the same run.
"""
