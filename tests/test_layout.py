"""The layout's rules, checked on the source so that they cannot quietly come back:

* imports run one way (commands → systems / report / perf → run → results → datamodules / heads →
  backbones) and no module imports itself back through others (no cycle);
* no module takes another module's private name (``from m import _x``, ``m._x``, ``obj._x``
  where ``_x`` is defined elsewhere in the project);
* no source file over 400 lines, at most a dozen modules directly in ``benchmark/``.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("benchmark", "datamodules", "heads", "backbones")
MAX_LINES = 400
MAX_TOP_LEVEL_BENCHMARK_MODULES = 12

# Lower layers never import higher ones; a layer may import within its own group.
LAYERS: tuple[tuple[str, int], ...] = (
    ("backbones", 0),
    ("heads", 1),
    ("datamodules", 2),
    ("benchmark.project", 2),
    ("benchmark.results", 3),
    ("benchmark.run", 4),
    ("benchmark.systems", 5),
    ("benchmark.report", 5),
    ("benchmark.perf", 5),
    ("benchmark.cli", 6),
    ("benchmark.__main__", 7),
    ("benchmark", 7),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
    }


def group_of(module: str) -> tuple[str, int]:
    for prefix, layer in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return prefix, layer
    raise AssertionError(f"{module} is in no layer of LAYERS; add it")


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> dict[str, int]:
    """Project modules imported by ``module`` (anywhere in it, lazy imports included) → a line number."""
    found: dict[str, int] = {}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in PACKAGES and target in modules and target != module:
                found.setdefault(target, node.lineno)
    return found


def import_graph() -> dict[str, dict[str, int]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def test_every_module_is_in_a_layer() -> None:
    for module in project_modules():
        group_of(module)


def test_imports_run_one_way() -> None:
    wrong = []
    for module, targets in import_graph().items():
        group, layer = group_of(module)
        for target, line in targets.items():
            target_group, target_layer = group_of(target)
            if target_layer > layer or (target_layer == layer and target_group != group):
                wrong.append(f"{module}:{line} imports {target} ({group} may not depend on {target_group})")
    assert not wrong, "\n".join(wrong)


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    state: dict[str, int] = defaultdict(int)  # 0 new, 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in graph.get(node, {}):
            if state[target] == 1:
                return stack[stack.index(target) :] + [target]
            if state[target] == 0 and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in graph:
        if state[node] == 0 and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle() -> None:
    graph = import_graph()
    # a package's __init__ importing its own modules is how a package exposes them, not a cycle
    pruned = {
        module: {t: n for t, n in targets.items() if not t.startswith(module + ".")} for module, targets in graph.items()
    }
    cycle = find_cycle(pruned)
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": 1}, "b": {}}) is None


def private_definitions(tree: ast.AST) -> set[str]:
    """Private names a module defines: functions, classes, methods, module and attribute assignments."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if is_private(name)}


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(module: str, tree: ast.AST, own: set[str], project_private: set[str]) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
            found += [f"{module}:{node.lineno} imports {node.module}.{a.name}" for a in node.names if is_private(a.name)]
        elif isinstance(node, ast.Attribute) and is_private(node.attr):
            receiver = node.value
            if isinstance(receiver, ast.Name) and receiver.id in ("self", "cls"):
                continue
            if node.attr in project_private and node.attr not in own:
                found.append(f"{module}:{node.lineno} uses {ast.unparse(node)}")
    return found


def test_no_private_name_is_taken_across_modules() -> None:
    trees = {name: ast.parse(path.read_text(), str(path)) for name, path in project_modules().items()}
    own = {name: private_definitions(tree) for name, tree in trees.items()}
    project_private = set().union(*own.values())
    uses = [use for name, tree in trees.items() for use in private_uses(name, tree, own[name], project_private)]
    assert not uses, "\n".join(uses)


def test_the_private_check_sees_a_private_use() -> None:
    tree = ast.parse("from benchmark.run.runner import _hidden\nvalue = model._scores(x)\n")
    uses = private_uses("m", tree, set(), {"_scores", "_hidden"})
    assert len(uses) == 2


def test_no_source_file_is_over_400_lines() -> None:
    files = [*sorted(ROOT.glob("*.py")), *(p for d in (*PACKAGES, "tests") for p in sorted((ROOT / d).rglob("*.py")))]
    long = [f"{p.relative_to(ROOT)}: {n}" for p in files if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert not long, "files over 400 lines:\n" + "\n".join(long)


def test_benchmark_has_at_most_a_dozen_modules_of_its_own() -> None:
    top_level = sorted(p.name for p in (ROOT / "benchmark").glob("*.py"))
    assert len(top_level) <= MAX_TOP_LEVEL_BENCHMARK_MODULES, top_level


# -- fork safety: one converter of PyAV frames, one way to start worker processes --------------------------------
# A PyAV conversion made outside datamodules/decoding/convert.py may start a thread pool that a forked child
# inherits and hangs on; a DataLoader or process pool made outside datamodules/workers.py forks by default.
FORK_RULES: tuple[tuple[str, str, bool, str], ...] = (  # pattern, the one module allowed, tests too, what
    (r"\.(to_ndarray|reformat|to_image|to_rgb)\(", "datamodules/decoding/convert.py", True, "converts a PyAV frame itself"),
    (r"(?<![A-Za-z_])DataLoader\(", "datamodules/workers.py", False, "makes a plain DataLoader (use WatchedDataLoader)"),
    (r"get_context\(|ProcessPoolExecutor\((?!.*worker_context)|multiprocessing\.Pool\(", "datamodules/workers.py", False,
     "starts processes without worker_context()"),
)


def fork_rule_breaches(files: dict[str, str]) -> list[str]:
    """``relative path → source`` scanned for the rules above (tests start processes on purpose, but convert
    frames in the process that forks the suite's loaders): ``path:line: what``."""
    import re

    found = []
    for relative, text in files.items():
        in_tests = relative.startswith("tests/")
        for number, line in enumerate(text.splitlines(), start=1):
            code = line.split("#", 1)[0]
            for pattern, home, tests_too, what in FORK_RULES:
                if relative != home and (tests_too or not in_tests) and re.search(pattern, code):
                    found.append(f"{relative}:{number}: {what}")
    return found


def source_files() -> dict[str, str]:
    paths = [p for package in (*PACKAGES, "tests") for p in sorted((ROOT / package).rglob("*.py"))]
    return {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in paths if p.name != "test_layout.py"}


def test_frames_are_converted_and_workers_started_in_one_place() -> None:
    assert fork_rule_breaches(source_files()) == []


def test_the_fork_rules_see_a_breach() -> None:
    planted = {
        "datamodules/x.py": "a = frame.to_ndarray(format='rgb24')\nloader = DataLoader(ds, num_workers=2)\n",
        "benchmark/y.py": "ctx = multiprocessing.get_context('fork')\npool = ProcessPoolExecutor(2)\n",
        "datamodules/decoding/convert.py": "return frame.to_ndarray(format=format)\n",
        "benchmark/z.py": "pool = ProcessPoolExecutor(2, mp_context=worker_context())\nrgb = to_rgb(frame, size)\n",
        "tests/t.py": "ctx = multiprocessing.get_context('spawn')\nx = f.reformat(width=8)\n",
    }
    assert fork_rule_breaches(planted) == [
        "datamodules/x.py:1: converts a PyAV frame itself",
        "datamodules/x.py:2: makes a plain DataLoader (use WatchedDataLoader)",
        "benchmark/y.py:1: starts processes without worker_context()",
        "benchmark/y.py:2: starts processes without worker_context()",
        "tests/t.py:2: converts a PyAV frame itself",
    ]
