"""The cyclic garbage collector, made cheaper for the rest of a long-lived process.

Called once a process has loaded what it keeps for good: the query workers
after loading the data, the web process after building the app. What exists
by then lives as long as the process (``gc.freeze``: never traversed again),
and the collector waits for 10,000 new container objects instead of 700
before a young collection. Almost everything made afterwards is freed by
reference counting; cycles (exceptions, mostly) just wait a little longer.

Why, in a worker: every pyoxigraph term is a container the collector tracks,
so a 1,000-row answer (3,000 terms) set off several collections, 18% of the
request's CPU (4.4 ms with, 3.6 ms without). In the web process: a full
collection traverses everything FastAPI, pydantic and the routes built at
start-up; some 1k benchmark runs had a p99 of 21-50 ms before this, 3-5 ms
after.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000


def collect_less_often() -> None:
    """Freeze what exists now and raise the young generation's threshold."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
