"""bench_changes' lock sampler, in a process of its own: takes and releases record locks
(on keys no change uses) against the bot's database until its stdin closes, and at least
LEAST times; then prints how many were taken while the bot's changes ran, and each take + release in
milliseconds, one per line.

Its own interpreter, so what it measures is the lock (the database's round trips while
the bot's changes load it, and this machine's CPUs) and not the waits of the benchmark's
own sending threads for their interpreter.

Run by bench_changes: `python benchmarks/lock_sampler.py DATABASE_URL LEAST`.
"""

from __future__ import annotations

import select
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.store.database import Store
from bot.store.locks import locks_for


def main() -> None:
    url, least = sys.argv[1], int(sys.argv[2])
    store = Store.from_url(url)
    locks = locks_for(store.engine)
    samples: list[float] = []
    running, under_load = True, 0
    print("ready", flush=True)
    while running or len(samples) < least:
        start = time.perf_counter()
        with locks.hold(f"bench-lock:{len(samples)}"):
            pass
        samples.append((time.perf_counter() - start) * 1000)
        # A lock taken now and then, as changes take them, not a spin; stdin readable
        # (closed) is the benchmark saying its changes are done.
        if running and select.select([sys.stdin], [], [], 0.001)[0]:
            running, under_load = False, len(samples)
        elif not running:
            time.sleep(0.001)
    locks.close()
    store.engine.dispose()
    sys.stdout.write("".join(f"{s}\n" for s in [under_load, *samples]))


if __name__ == "__main__":
    main()
