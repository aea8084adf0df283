"""A Ray driver for the tests, run as its own process: ``ray_driver.py KIND OUT URL ADDRESS N``.

Ray's driver leaves native threads behind in the process that called ``ray.init`` (and they
have been seen to crash it long after ``ray.shutdown()``), so the test process never imports
Ray: each Ray run is one short-lived driver process, as it is for a user's ``sqlsynth``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from executor_runs import run_pipeline  # this folder is on sys.path: the script's own

from sqlsynth.executors.ray import RayExecutor


def main(argv: list[str]) -> int:
    kind, out, server_url, address, workers = argv
    requests = run_pipeline(kind, Path(out), server_url,
                            RayExecutor(address, workers=int(workers)))
    print(json.dumps(requests))  # the usage the driver's summary shows
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
