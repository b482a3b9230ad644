"""Judge kept check runs against a baseline: ``python tests/power/verdicts.py BASELINE MEASURED.csv...``.

Each MEASURED file is the ``measured.csv`` a `stbench regress` run leaves in ``<work>/regress/``
(e.g. one per planted defect, see ``plant_defect.py``); prints the verdict table of each. A run of
fewer heads (``--heads-sweep``) is judged on those heads only, without the mean over all heads.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmark.report.regress import compare, format_table  # noqa: E402


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    baseline = pd.read_csv(sys.argv[1])
    for path in sys.argv[2:]:
        measured = pd.read_csv(path)
        seed = int(measured["seed"].iloc[0])
        ran = set(zip(measured["stage"], measured["head"]))
        judged = baseline[[(stage, head) in ran for stage, head in zip(baseline["stage"], baseline["head"])]]
        if len(judged) == len(baseline) - 1:  # every head ran: the mean over them is judged too
            judged = baseline
        verdicts = compare(judged, measured, seed)
        print(f"== {path} (seed {seed})")
        print(format_table(verdicts))
        flagged = [f"{v.head} ({v.stage}) {100 * v.change:+.1f}" for v in verdicts if v.regressed]
        print(f"flagged: {', '.join(flagged) or 'none'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
