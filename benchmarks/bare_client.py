"""The floor for bench_changes: the Smart Passes calls a points change makes (read the
customer's balance, then add the points), with the bot's own Loyalty API client, from a
process of its own, as many at a time as the bot is given (bench_changes' IN_FLIGHT);
nothing else (no Slack, no ledger, no database).

Run by bench_changes: `python benchmarks/bare_client.py API_URL ID,ID,... THREADS`;
prints the changes per second it made and the CPU (ms) it used per change, after checking
every one landed.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._support import balances
from bot.offline.sandbox import DEMO_APP_KEY, DEMO_PROGRAM_ID
from bot.smartpasses.client import LoyaltyClient, shared_http


def main() -> None:
    api_url, ids = sys.argv[1], [int(i) for i in sys.argv[2].split(",")]
    threads = int(sys.argv[3])
    before = balances(api_url)
    client = LoyaltyClient(
        app_key=DEMO_APP_KEY, program_id=DEMO_PROGRAM_ID, base_url=api_url, http=shared_http()
    )

    def change(customer_id: int) -> None:
        client.get_customer(customer_id)  # the balance, read as the bot reads it first
        client.add_points(customer_id, 1)

    start, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(change, ids))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    after = balances(api_url)
    for cid in set(ids):
        assert after[cid] == before[cid] + ids.count(cid), f"balance of {cid} is wrong"
    print(f"{len(ids) / elapsed:.3f} {cpu / len(ids) * 1000:.3f}")


if __name__ == "__main__":
    main()
