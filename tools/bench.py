"""Benchmark a full synth: optimized (lazy provider imports) next to the naive path.

Runs ``python main.py`` for every environment, alternating the two modes, ``--runs``
times each (default 3), and prints the median wall time and the peak RSS of the synth
(the Python process or its jsii Node child, whichever is larger) side by side, plus the
ratio. Each run writes to a fresh temporary directory. Usage: ``make bench`` or
``python tools/bench.py --runs 5``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tools.toolchain import tool_env  # noqa: E402

# Runs one synth as a child and reports its wall time and the peak RSS of its process tree
# (RUSAGE_CHILDREN covers the synth and the Node process it waits for).
_PROBE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
if proc.returncode:
    sys.stderr.write(proc.stderr[-3000:]); sys.exit(proc.returncode)
print(json.dumps({"wall": wall, "rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


@dataclass
class Sample:
    wall: float
    rss_mib: float


def run_once(eager: bool) -> Sample:
    env = tool_env(PLATFORM_EAGER_PROVIDER_IMPORTS="1" if eager else "0")
    with tempfile.TemporaryDirectory() as out:
        env["CDKTF_OUTDIR"] = str(Path(out) / "cdktf.out")
        proc = subprocess.run(
            [sys.executable, "-c", _PROBE, sys.executable, "main.py"], cwd=REPO, env=env, capture_output=True, text=True, check=False
        )
    if proc.returncode:
        raise SystemExit(f"synth failed ({'naive' if eager else 'optimized'}):\n{proc.stderr}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return Sample(wall=data["wall"], rss_mib=data["rss_kib"] / 1024)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per mode (default 3)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    samples: dict[str, list[Sample]] = {"optimized": [], "naive": []}
    started = time.perf_counter()
    for _ in range(args.runs):
        samples["optimized"].append(run_once(eager=False))
        samples["naive"].append(run_once(eager=True))
    result = {
        mode: {
            "median_wall_s": round(statistics.median(s.wall for s in runs), 2),
            "peak_rss_mib": round(max(s.rss_mib for s in runs)),
            "runs": len(runs),
        }
        for mode, runs in samples.items()
    }
    ratio = result["optimized"]["median_wall_s"] / result["naive"]["median_wall_s"]
    if args.json:
        print(json.dumps({**result, "ratio": round(ratio, 3)}))
        return 0
    print(f"full synth of every environment ({args.runs} runs each, alternating; {time.perf_counter() - started:.0f} s total)")
    print(f"{'mode':<10} {'median wall':>12} {'peak RSS':>10}")
    for mode, r in result.items():
        print(f"{mode:<10} {r['median_wall_s']:>10.2f} s {r['peak_rss_mib']:>6} MiB")
    print(f"optimized / naive wall time: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
