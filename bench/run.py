"""``python -m bench``: generate, start every system, check rows, load, report.

Figures are ratios to the Oxigraph server with the same kind of store
(memory or disk) measured in the same run; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import time
from pathlib import Path

import httpx

from bench import systems, workload
from bench.generate import generate, parse_size

ORDER = (
    "oxigraph-memory",
    "oxigraph-disk",
    "ours-memory",
    "ours-disk",
    "bare-pyoxigraph",
    "bare-pyoxigraph-workers",
    "rdflib-endpoint",
)


def _geomean(values: list[float]) -> float:
    values = [v for v in values if v > 0]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else 0.0


def _data(size: str, workdir: Path) -> tuple[Path, int]:
    if size == "article":
        from openskies.graph.build import ensure_built

        path = ensure_built(Path("build"))
        return path, sum(1 for _ in path.open())
    wanted = parse_size(size)
    path = workdir / f"data-{size}.nt"
    return path, generate(wanted, path)


def check_rows(running: systems.Running, queries: dict[str, str]) -> dict[str, list[str]]:
    answers = {}
    for name, query in queries.items():
        try:
            response = httpx.get(
                running.url,
                params={"query": query},
                headers={"Accept": "application/sparql-results+json"},
                timeout=120,
            )
            answers[name] = (
                workload.normalize(response.json())
                if response.status_code == 200
                else [f"HTTP {response.status_code}"]
            )
        except (httpx.HTTPError, ValueError) as exc:
            answers[name] = [f"error {type(exc).__name__}"]
    return answers


def bench_system(
    name: str,
    data: Path,
    triples: int,
    queries: tuple[dict[str, str], dict[str, str]],
    args: argparse.Namespace,
    workdir: Path,
) -> dict:
    """One start of ``name``: cold start, load, the rows of every query, every load run."""
    shapes, catalog = queries
    try:
        running = systems.start(
            name,
            data,
            triples,
            workdir,
            workers=args.workers,
            http_processes=args.http_processes,
        )
    except Exception as exc:  # a system that cannot start is reported, not fatal
        print(f"   {name}: failed to start: {exc}", flush=True)
        return {"error": str(exc)}
    entry: dict = {
        "cold_start_s": round(running.cold_start_s, 3),
        "load_s": round(running.load_s, 3),
        "runs": {},
    }
    try:
        entry["answers"] = check_rows(running, {**shapes, **catalog})

        def measure(queries: list[str], connections: int, *, distinct: bool) -> dict:
            run = workload.run_load(
                running.base,
                running.path,
                queries,
                connections=connections,
                seconds=args.seconds,
                distinct=distinct,
                tool=args.tool,
            )
            return {**run.as_dict(), "drain_s": workload.settle(running.base, running.path)}

        for connections in args.connections:
            for query_name, query in shapes.items():
                entry["runs"][f"{query_name}@{connections}"] = measure(
                    [query], connections, distinct=True
                )
            if catalog:
                questions = list(catalog.values())
                entry["runs"][f"catalog@{connections}"] = measure(
                    questions, connections, distinct=True
                )
                workload.warm_up(running.base, running.path, questions)
                entry["runs"][f"catalog_repeated@{connections}"] = measure(
                    questions, connections, distinct=False
                )
        entry["peak_rss_mib"] = round(systems.peak_rss_mib(running.process.pid), 1)
    finally:
        running.stop()
    return entry


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3) if values else 0.0


def merge_starts(starts: list[dict]) -> dict:
    """One system's entry from several starts: medians, with each run's spread kept.

    Why starts and not longer runs: the same engine's speed on the same query
    varies from one process start to the next (the Oxigraph server's own 100k
    aggregate: 653 to 1,167 rps over nine starts, for reasons not known), so
    one start per system makes a ratio partly luck. Peak RSS is the largest seen.
    """
    good = [entry for entry in starts if "error" not in entry]
    if not good:
        return starts[0]
    merged: dict = {
        "cold_start_s": _median([entry["cold_start_s"] for entry in good]),
        "load_s": _median([entry["load_s"] for entry in good]),
        "starts": len(good),
        "runs": {},
    }
    if len(good) < len(starts):
        merged["failed_starts"] = len(starts) - len(good)
    rss = [entry["peak_rss_mib"] for entry in good if entry.get("peak_rss_mib") is not None]
    merged["peak_rss_mib"] = max(rss) if rss else None
    merged["answers"] = good[0].get("answers", {})
    for key in good[0]["runs"]:
        runs = [entry["runs"][key] for entry in good if key in entry["runs"]]
        merged["runs"][key] = {
            "requests": sum(run["requests"] for run in runs),
            "errors": sum(run["errors"] for run in runs),
            "seconds": sum(run["seconds"] for run in runs),
            "rps": _median([run["rps"] for run in runs]),
            "p50_ms": _median([run["p50_ms"] for run in runs]),
            "p99_ms": _median([run["p99_ms"] for run in runs]),
            "rps_each": [round(run["rps"], 1) for run in runs],
            "tool": runs[0]["tool"],
            "drain_s": max(run.get("drain_s", 0) for run in runs),
        }
    return merged


def bench_size(size: str, args: argparse.Namespace, workdir: Path) -> dict:
    data, triples = _data(size, workdir)
    print(f"== {size}: {triples} triples in {data}", flush=True)
    queries = (dict(workload.SHAPES), workload.catalog_queries() if args.catalog else {})
    names = [n for n in ORDER if n in args.systems]
    names = [n for n in names if n != "rdflib-endpoint" or triples <= parse_size(args.rdflib_max)]
    starts: dict[str, list[dict]] = {name: [] for name in names}
    for repeat in range(args.repeats):
        # Each round starts every system once, in turn, so that a slow spell of a
        # shared machine falls on all of them rather than on one system's runs.
        for name in names:
            began = time.perf_counter()
            entry = bench_system(name, data, triples, queries, args, workdir / size)
            starts[name].append(entry)
            print(
                f"   {name} (start {repeat + 1}/{args.repeats}): "
                f"cold {entry.get('cold_start_s')} s, load {entry.get('load_s')} s, "
                f"rss {entry.get('peak_rss_mib')} MiB, {time.perf_counter() - began:.0f} s",
                flush=True,
            )
    result: dict = {"triples": triples, "systems": {}}
    reference: dict[str, list[str]] | None = None
    for name in names:
        entry = merge_starts(starts[name])
        answers = entry.pop("answers", None)
        if answers is not None:
            if reference is None:
                reference = answers
            entry["mismatches"] = sorted(q for q in answers if answers[q] != reference.get(q))
            entry["rows"] = {q: len(rows) for q, rows in answers.items()}
            print(f"   {name}: mismatches {entry['mismatches']}", flush=True)
        result["systems"][name] = entry
    result["ratios"] = ratios(result["systems"], args.connections)
    return result


def ratios(found: dict, connection_counts: list[int]) -> dict:
    out: dict = {}
    for name, baseline in systems.BASELINE.items():
        if name not in found or baseline not in found or "runs" not in found[name]:
            continue
        mine, base = found[name]["runs"], found[baseline]["runs"]
        table: dict = {}
        for key, run in mine.items():
            if key in base and base[key]["rps"]:
                table[key] = {
                    "rps": round(run["rps"] / base[key]["rps"], 3),
                    "p99": round(run["p99_ms"] / base[key]["p99_ms"], 3)
                    if base[key]["p99_ms"]
                    else None,
                }
        for connections in connection_counts:
            shape_ratios = [
                table[f"{shape}@{connections}"]["rps"]
                for shape in workload.SHAPES
                if f"{shape}@{connections}" in table
            ]
            table[f"geomean_shapes@{connections}"] = round(_geomean(shape_ratios), 3)
            table[f"min_shape@{connections}"] = min(shape_ratios, default=0.0)
        out[f"{name} / {baseline}"] = table
    return out


def _cell(run: dict) -> str:
    if not run["requests"]:
        text = "no answer within the run"
    else:
        text = f"{run['rps']:.0f} rps, p50 {run['p50_ms']:.1f} / p99 {run['p99_ms']:.1f} ms"
        each = run.get("rps_each", [])
        if len(each) > 1:
            text += f" (starts: {min(each):.0f}-{max(each):.0f} rps)"
    if run["errors"]:
        text += f", {run['errors']} err"
    if run.get("drain_s", 0) >= 1:
        text += f", backlog drained in {run['drain_s']:.0f} s"
    return text


def markdown(report: dict) -> str:
    lines = [
        "# Benchmark report",
        "",
        f"Command: `{report['command']}`  ",
        f"Machine: {report['machine']}; load tool: {report['tool']}; "
        f"{report['seconds']} s per run; {report.get('repeats', 1)} start(s) of each system "
        "per size, figures are medians over the starts; repeated catalog runs follow one "
        "pass over the same requests (`workload.warm_up`); ratios are to the Oxigraph server "
        "with the same kind of store in this run (rdflib-endpoint: to Oxigraph in memory).",
        "",
    ]
    for size, result in report["sizes"].items():
        lines += [f"## {size} ({result['triples']} triples)", ""]
        lines += [
            "| system | cold start s | load s | peak RSS MiB | row mismatches |",
            "|---|---|---|---|---|",
        ]
        for name, entry in result["systems"].items():
            if "error" in entry:
                lines.append(f"| {name} | failed: {entry['error'][:80]} | | | |")
                continue
            lines.append(
                f"| {name} | {entry['cold_start_s']} | {entry['load_s']} | "
                f"{entry.get('peak_rss_mib')} | "
                f"{', '.join(entry.get('mismatches', [])) or 'none'} |"
            )
        lines += ["", "| run | " + " | ".join(result["systems"]) + " |"]
        lines.append("|---" * (len(result["systems"]) + 1) + "|")
        keys = sorted({k for e in result["systems"].values() for k in e.get("runs", {})})
        for key in keys:
            cells = []
            for entry in result["systems"].values():
                run = entry.get("runs", {}).get(key)
                cells.append(_cell(run) if run else "")
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
        for pair, table in result["ratios"].items():
            lines += ["", f"Ratios {pair}:", ""]
            lines += ["| run | throughput | p99 |", "|---|---|---|"]
            for key, value in table.items():
                if isinstance(value, dict):
                    lines.append(f"| {key} | {value['rps']}x | {value['p99']}x |")
                else:
                    lines.append(f"| {key} | {value}x | |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sizes", default="article,1k,10k,100k", help="e.g. article,1k,100k,1m")
    parser.add_argument("--seconds", type=float, default=10.0, help="per load run")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="starts of each system per size; figures are medians over the starts",
    )
    parser.add_argument("--connections", default="4,32")
    parser.add_argument(
        "--systems",
        default=",".join(systems.SYSTEMS),
        help="comma-separated; the reference floors "
        + ", ".join(systems.REFERENCES)
        + " (bench/bare_server.py) run only when named",
    )
    parser.add_argument("--tool", default="auto", choices=("auto", "wrk", "python"))
    parser.add_argument(
        "--workers", type=int, default=2, help="our query workers (as OPENSKIES_WORKERS)"
    )
    parser.add_argument(
        "--http-processes", type=int, default=None, help="our web processes (default: its own)"
    )
    parser.add_argument("--rdflib-max", default="100k", help="largest size for rdflib-endpoint")
    parser.add_argument("--no-catalog", dest="catalog", action="store_false")
    parser.add_argument("--workdir", type=Path, default=Path("build/bench"))
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    args.connections = [int(c) for c in args.connections.split(",")]
    args.systems = args.systems.split(",")
    import shutil
    import sys

    report = {
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "tool": args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "python"),
        "seconds": args.seconds,
        "repeats": args.repeats,
        "sizes": {},
    }
    for size in args.sizes.split(","):
        report["sizes"][size] = bench_size(size, args, args.workdir)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=1))
    (args.out / "report.md").write_text(markdown(report))
    print(f"wrote {args.out / 'report.md'} and report.json")
    return report
