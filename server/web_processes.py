"""How many web processes ``openskies serve`` starts when ``http_processes`` is 0 (automatic).

One Python web process is the limit for small queries: it spends about
0.3 ms of CPU on each, so it fills one core while the workers wait
(README, "Where the time goes"). A second one, sharing the port, uses the
other core. At 100,000 triples in memory, two web processes with one worker
each against one with two workers (same 2-core machine, 4 connections, one
4 s run of each shape): point lookup 2,839 -> 3,114 rps, three-way join
1,799 -> 2,334, aggregate 404 -> 494, property path 2,853 -> 3,296, text
filter 186 -> 204, ORDER BY 100 -> 97.

The price is memory and start-up time. Memory: a second web process
(about 76 MiB) and uvicorn's supervisor; next to a large dataset, which
every worker holds, that is small, but on the article graph it would break
the 150 MiB budget. Start-up: uvicorn starts the web processes by spawning
fresh interpreters, which import the app before their workers begin to
load, so the first answer comes later (100k triples: 1.6 -> 2.7 s in memory,
1.0 -> 1.8 s from the on-disk store). The on-disk store is there for fast
restarts (1m triples in 1.4 s), so it keeps one web process. The automatic
choice is therefore two web processes only for the in-memory store, with
large data, on a read-only server (each process has its own workers, and a
write would reach only one of them), with two CPUs or more. The query
workers (``workers``) are then divided between the two, so the number of
copies of the data stays the same.
"""

from __future__ import annotations

import os

from openskies.settings import Settings

LARGE_DATA_BYTES = 8 * 2**20
"""Data files at least this large (about 55,000 triples as N-Triples) count as large."""


def data_bytes(settings: Settings) -> int:
    """Size of the files the server will load.

    Finding them builds the dataset first if it is missing, and raises
    ``FileNotFoundError`` for a data file that does not exist.
    """
    from openskies.server.data import dataset_sources

    return sum(path.stat().st_size for path in dataset_sources(settings))


def resolve_web_processes(settings: Settings, *, cpus: int | None = None) -> Settings:
    """``settings`` with ``http_processes`` decided: as given, or 1 or 2 when it is 0.

    With two chosen automatically, ``workers`` becomes half of it (at least
    one) per web process. ``cpus`` defaults to ``os.cpu_count()``.
    """
    if settings.http_processes:
        return settings
    many = (
        settings.update_token is None
        and settings.store == "memory"
        and (cpus if cpus is not None else os.cpu_count() or 1) >= 2
        and data_bytes(settings) >= LARGE_DATA_BYTES
    )
    if not many:
        return settings.model_copy(update={"http_processes": 1})
    return settings.model_copy(
        update={"http_processes": 2, "workers": max(1, settings.workers // 2)}
    )
