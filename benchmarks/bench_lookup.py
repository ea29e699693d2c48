"""Lookup index on a 100,000-customer sandbox program.

Run by hand: `.venv/bin/python benchmarks/bench_lookup.py [--customers N]`.
Targets (issue 2): load < 3 s and < 150 MB peak RSS; warm p99 < 1 ms by email and
phone, < 10 ms by name; naive re-fetch per lookup at least 100x slower.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._support import peak_rss_mb, percentile, sandbox_process
from bot.core.lookup import CustomerIndex
from bot.offline.sandbox import DEMO_APP_KEY, DEMO_PROGRAM_ID
from bot.smartpasses.client import LoyaltyClient


def timed(fn, refs: list[str]) -> list[float]:
    samples = []
    for ref in refs:
        start = time.perf_counter()
        result = fn(ref)
        samples.append((time.perf_counter() - start) * 1000)
        assert result, ref
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()

    with sandbox_process(str(args.customers)) as base:
        client = LoyaltyClient(
            app_key=DEMO_APP_KEY, program_id=DEMO_PROGRAM_ID, base_url=base, timeout=60
        )
        rss_before = peak_rss_mb()
        start = time.perf_counter()
        index = CustomerIndex(client.list_customers, ttl=3600)
        index.refresh()
        load_s = time.perf_counter() - start
        rss_peak = peak_rss_mb()
        customers = index.all()

        rng = random.Random(1)
        sample = [c for c in rng.sample(customers, args.lookups) if c.email]
        by = {
            "email": [c.email.upper() for c in sample],
            "phone": [c.phone[:3] + " " + c.phone[3:] for c in sample],
            "name": [c.full_name.lower() for c in sample],
        }
        print(f"customers: {len(customers):,}")
        print(f"index load through the adapter: {load_s:.2f} s (target < 3 s)")
        print(f"peak RSS: {rss_peak:.0f} MB (before load {rss_before:.0f} MB; target < 150 MB)")
        warm = {}
        for kind, refs in by.items():
            samples = timed(lambda r: index.find(r).matches, refs)
            warm[kind] = samples
            print(
                f"warm lookup by {kind}: p50 {percentile(samples, 50):.3f} ms, "
                f"p99 {percentile(samples, 99):.3f} ms over {len(samples)} lookups"
            )

        naive_refs = by["email"][:5]

        def naive(ref: str) -> list:
            return [c for c in client.list_customers() if c.email.lower() == ref.lower()]

        naive_samples = timed(naive, naive_refs)
        naive_p50 = percentile(naive_samples, 50)
        ratio = naive_p50 / percentile(warm["email"], 50)
        print(
            f"naive re-fetch per lookup: p50 {naive_p50:.0f} ms over {len(naive_refs)} lookups "
            f"-> index is {ratio:,.0f}x faster (target >= 100x)"
        )


if __name__ == "__main__":
    main()
