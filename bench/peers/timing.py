"""What every peer script measures with: the best of several timed runs, and one JSON line per result."""
import json
import time


def best(fn, repeats=3):
    """The shortest of `repeats` timed calls of `fn`, in seconds (the first call included)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def report(workload, impl, tokens, seconds, **extra):
    """One result as the JSON line bench/report.py reads."""
    print(json.dumps({"workload": workload, "impl": impl, "tokens": tokens, "seconds": seconds,
                      "tokens_per_s": tokens / seconds, **extra}), flush=True)
