"""The locked dependency set: what set-up installs, how the lock is written, and what differs from it.

Standard library only: it runs before the project is installed.

    python requirements/lockfile.py constraints OUT   # the lock as pip constraints for this environment
    python requirements/lockfile.py freeze OUT        # write the lock from this environment
    python requirements/lockfile.py diff              # installed versions that differ from the lock

``constraints`` leaves torch out (set-up installs ``torch==$(TORCH_VERSION)`` itself, or keeps the one
installed) and, where a torch is already installed (a user's CUDA build), every package that torch needs:
those stay as that torch wants them.
"""
from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

LOCK = Path(__file__).with_name("lock.txt")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")
NEVER_LOCKED = {"torch", "pip", "wheel", "stbench"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path = LOCK) -> dict[str, str]:
    """Package name (canonical) → pinned version."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def requirement_names(distribution: metadata.Distribution) -> set[str]:
    names = set()
    for requirement in distribution.requires or []:
        if "extra ==" in requirement:
            continue
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        if match:
            names.add(canonical(match.group(1)))
    return names


def needed_by(root: str) -> set[str]:
    """``root`` and everything its installed distribution needs, transitively (installed ones only)."""
    seen: set[str] = set()
    todo = [canonical(root)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        todo.extend(requirement_names(distribution) - seen)
    return seen


def constraints(out: Path) -> None:
    left_to_torch = needed_by("torch")  # empty without an installed torch
    lines = []
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.strip())
        if not match:
            continue
        name = canonical(match.group(1))
        if name in NEVER_LOCKED or name in left_to_torch:
            continue
        lines.append(line.strip())
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    kept = "" if not left_to_torch else f"; {len(left_to_torch)} left as the installed torch needs them"
    print(f"lock: {len(lines)} pinned packages{kept}")


def installed() -> dict[str, str]:
    return {canonical(d.metadata["Name"]): d.version for d in metadata.distributions() if d.metadata["Name"]}


def freeze(out: Path) -> None:
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable", "--all"],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    pins = sorted(
        (line for line in frozen if PIN.match(line) and canonical(PIN.match(line).group(1)) not in NEVER_LOCKED - {"torch"}),
        key=lambda line: canonical(line.split("==")[0]),
    )
    torch_pin = next((line for line in pins if canonical(line.split("==")[0]) == "torch"), "torch: none")
    header = [
        "# The dependency set that `make test` was last run with and passed: set-up installs exactly these.",
        f"# Written by `make lock` on {datetime.now(timezone.utc):%Y-%m-%d} with Python "
        f"{sys.version_info.major}.{sys.version_info.minor} on {sys.platform}; tested with {torch_pin}",
        "# (torch itself is installed by set-up, or kept when one is installed). Do not edit by hand.",
    ]
    out.write_text("\n".join(header + pins) + "\n", encoding="utf-8")
    print(f"lock: wrote {len(pins)} pins to {out}")


def diff() -> int:
    """Print the installed packages whose version is not the locked one; the count."""
    if not LOCK.exists():
        print("lock: no requirements/lock.txt to compare with")
        return 0
    pins, have = read_lock(), installed()
    changed = [
        (name, pins[name], have.get(name, "not installed"))
        for name in sorted(pins)
        if name not in NEVER_LOCKED and have.get(name) != pins[name]
    ]
    for name, locked, now in changed:
        print(f"  {name}: locked {locked}, installed {now}")
    print(f"lock: {len(changed)} of {len(pins)} packages differ from requirements/lock.txt")
    return len(changed)


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "constraints":
        constraints(Path(argv[1]))
    elif len(argv) == 2 and argv[0] == "freeze":
        freeze(Path(argv[1]))
    elif argv == ["diff"]:
        diff()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
