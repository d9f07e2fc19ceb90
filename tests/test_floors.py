"""The floors of minikeras hold: every import points down.

The test reads every ``import`` and ``from ... import`` of ``minikeras/`` with ``ast`` (at
module level and inside functions, relative ones resolved) and fails, naming the file and
the line, on:

* an import that goes up a floor, or sideways to another package of the same floor;
* a cycle between modules (its path is printed);
* an import inside a function that is not in ``ALLOWED_IN_FUNCTIONS``;
* a module that imports its own package's ``__init__`` (``from . import get``, where
  ``get`` is defined in ``__init__.py``, or ``from ..losses import X`` inside ``losses/``).

Importing ``minikeras.a.b`` runs ``minikeras/a/__init__.py`` first, so such an import also
counts as an import of ``minikeras.a``.
"""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "minikeras"

# The floors, bottom to top (docs/architecture.md has the same table). A module may import
# its own package and packages of lower floors, nothing else.
FLOORS = [
    ["kernels"],
    ["backend"],
    ["registry"],  # the names of your own registered classes and functions
    ["config", "naming"],
    ["tensor"],
    ["autograd"],
    ["ops"],
    ["random"],
    ["activations", "constraints", "initializers", "regularizers", "schedules"],
    ["layers", "losses", "optim", "datasets"],
    ["metrics"],
    ["saving"],
    ["callbacks"],
    ["models"],
    ["utils", "applications"],  # tools that take a model; ready-made models
    ["debug"],
    ["minikeras"],  # minikeras/__init__.py: the public names
]
FLOOR = {package: i for i, packages in enumerate(FLOORS) for package in packages}

# Imports inside functions that stay, as (file, imported module): reason. Only packages
# outside minikeras that are optional or slow to import, imported where first needed.
ALLOWED_IN_FUNCTIONS = {
    ("backend/cuda_backend.py", "cupy"):
        "CuPy exists only on a machine with a GPU; the simulator runs without it",
    ("kernels/arrays.py", "cupy"):
        "CuPy exists only on a machine with a GPU",
    ("kernels/cpu/jit.py", "numba"):
        "importing Numba takes about half a second; only the first compiled loop pays it",
    ("kernels/cpu/threads.py", "threadpoolctl"):
        "needed only by set_num_threads, to find and set the thread pool of NumPy's BLAS",
    ("utils/plots.py", "matplotlib"):
        "importing matplotlib takes about a third of a second; only the first plot pays it",
    ("saving/weights_h5.py", "h5py"):
        "h5py is needed only to read and write .weights.h5 files",
    ("callbacks/tensorboard.py", "tensorboardX"):
        "an optional package, needed only by the TensorBoard callback",
}


class Import:
    """One imported module: who imports it, where, and whether inside a function."""

    def __init__(self, importer, target, path, line, in_function):
        self.importer, self.target = importer, target
        self.path, self.line, self.in_function = path, line, in_function

    def where(self):
        return f"{self.path}:{self.line}"


def module_names(root):
    """``minikeras.ops.math`` -> its file, for every ``.py`` file under ``root``."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _imports_of(tree):
    """(ast node, inside a function?) for every import statement of a module."""
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append((child, in_function))
            visit(child, in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(tree, False)
    return found


def read_imports(root):
    """Every import of a module of the package at ``root``, one ``Import`` per module
    named (a ``from X import a, b`` names ``X.a`` when it is a module, else ``X``)."""
    modules = module_names(root)
    imports = []
    for importer, path in modules.items():
        is_package = path.name == "__init__.py"
        where = path.relative_to(root).as_posix()
        for node, in_function in _imports_of(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    here = importer.split(".") if is_package else importer.split(".")[:-1]
                    here = here[:len(here) - node.level + 1]
                    base = ".".join(here + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            for target in dict.fromkeys(targets):
                imports.append(Import(importer, target, where, node.lineno, in_function))
    return modules, imports


def package_of(module):
    """The floor table's name for a module: ``minikeras.ops.math`` -> ``ops``,
    ``minikeras.tensor`` -> ``tensor``, ``minikeras`` -> ``minikeras``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _inside(root_name, module):
    return module == root_name or module.startswith(root_name + ".")


def _edges(imports, root_name):
    """module -> {module it imports: the Import}, the packages a dotted import runs
    (``minikeras.a`` for ``minikeras.a.b``) included when the importer is not inside them."""
    edges = {}
    for imp in imports:
        if not _inside(root_name, imp.target):
            continue
        parts = imp.target.split(".")
        for n in range(2, len(parts) + 1):
            target = ".".join(parts[:n])
            if n < len(parts) and _inside(target, imp.importer):
                continue
            if target != imp.importer:
                edges.setdefault(imp.importer, {}).setdefault(target, imp)
    return edges


def upward_imports(imports, root_name="minikeras"):
    """One line per import that does not point down the floors."""
    problems = []
    for importer, targets in _edges(imports, root_name).items():
        here = package_of(importer)
        for target, imp in targets.items():
            there = package_of(target)
            if there == here:
                continue
            if here not in FLOOR or there not in FLOOR:
                problems.append(f"{imp.where()}: {importer} imports {target}, and the floor "
                                f"table has no floor for '{here if here not in FLOOR else there}'"
                                ": add the package to FLOORS")
            elif FLOOR[there] >= FLOOR[here]:
                way = "up" if FLOOR[there] > FLOOR[here] else "sideways"
                problems.append(f"{imp.where()}: {importer} imports {target}: floor '{here}' "
                                f"(level {FLOOR[here]}) reaches {way} to floor '{there}' "
                                f"(level {FLOOR[there]})")
    return problems


def cycles(imports, root_name="minikeras"):
    """One line per cycle of modules: ``a -> b -> a``, with the line of each import."""
    edges = _edges(imports, root_name)
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def strongly_connected(start):  # Tarjan's algorithm, with an explicit stack
        work = [(start, iter(sorted(edges.get(start, {}))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(set(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges.get(child, {})))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for module in sorted(edges):
        if module not in index:
            strongly_connected(module)

    problems = []
    for component in components:
        start = min(component)
        path = _path_back(start, component, edges)
        steps = [f"{a} ({edges[a][b].where()})" for a, b in zip(path, path[1:])]
        problems.append("cycle: " + " -> ".join(steps + [start]))
    return problems


def _path_back(start, component, edges):
    """The shortest path from ``start`` back to itself inside one strongly connected set."""
    previous, frontier = {}, [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(edges.get(node, {})):
                if child not in component or child in previous:
                    continue
                previous[child] = node
                if child == start:
                    path = [start]
                    while len(path) == 1 or path[-1] != start:
                        path.append(previous[path[-1]])
                    return path[::-1]
                following.append(child)
        frontier = following
    return [start, start]


def imports_in_functions(imports, allowed=None):
    """One line per import inside a function that the allow-list does not name."""
    allowed = ALLOWED_IN_FUNCTIONS if allowed is None else allowed
    return [f"{imp.where()}: {imp.importer} imports {imp.target} inside a function: import "
            "it at the top of the file (if that makes a cycle, move the shared code down a "
            "floor), or, for an optional package only, add it to ALLOWED_IN_FUNCTIONS with "
            "its reason and to docs/architecture.md"
            for imp in imports if imp.in_function
            and (imp.path, imp.target.split(".")[0]) not in allowed
            and (imp.path, imp.target) not in allowed]


def own_package_imports(imports, modules):
    """One line per module that imports the ``__init__`` of its own package (or of a
    package around it)."""
    problems = []
    for imp in imports:
        is_package = modules.get(imp.importer, pathlib.Path()).name == "__init__.py"
        if is_package or imp.target not in modules or imp.target.count(".") == 0:
            continue
        if modules[imp.target].name == "__init__.py" and _inside(imp.target, imp.importer):
            problems.append(f"{imp.where()}: {imp.importer} imports its own package "
                            f"{imp.target} (its __init__.py): import the module that "
                            "defines the name instead")
    return problems


def all_problems(root):
    modules, imports = read_imports(root)
    name = root.name
    return (upward_imports(imports, name) + cycles(imports, name)
            + imports_in_functions(imports) + own_package_imports(imports, modules))


# ---------------------------------------------------------------------- the tests
def test_every_package_has_a_floor():
    packages = {package_of(m) for m in module_names(ROOT)}
    assert packages - set(FLOOR) == set(), "add these packages to FLOORS"


def test_no_import_goes_up_a_floor():
    _, imports = read_imports(ROOT)
    problems = upward_imports(imports)
    assert not problems, "\n".join(problems)


def test_no_cycle_between_modules():
    _, imports = read_imports(ROOT)
    problems = cycles(imports)
    assert not problems, "\n".join(problems)


def test_no_import_inside_a_function_but_the_documented_ones():
    _, imports = read_imports(ROOT)
    problems = imports_in_functions(imports)
    assert not problems, "\n".join(problems)


def test_the_allowed_imports_are_documented_and_still_there():
    _, imports = read_imports(ROOT)
    present = {(imp.path, imp.target.split(".")[0]) for imp in imports if imp.in_function}
    doc = (ROOT.parent / "docs" / "architecture.md").read_text()
    for path, module in ALLOWED_IN_FUNCTIONS:
        assert (path, module) in present, f"{path} no longer imports {module} inside a " \
                                          "function: remove it from ALLOWED_IN_FUNCTIONS"
        assert f"`{path}`" in doc, f"docs/architecture.md does not list {path}'s import"


def test_no_module_imports_its_own_package():
    modules, imports = read_imports(ROOT)
    problems = own_package_imports(imports, modules)
    assert not problems, "\n".join(problems)


def test_the_floor_table_is_the_documented_one():
    doc = (ROOT.parent / "docs" / "architecture.md").read_text()
    for level, packages in enumerate(FLOORS):
        row = f"| {level} | " + ", ".join(f"`{p}`" for p in packages) + " |"
        assert row in doc, f"docs/architecture.md lacks the floor row {row!r}"


# ---------------------------------------------------------------------- the test can fail
def _fake_tree(tmp_path, files):
    root = tmp_path / "minikeras"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_it_reports_an_upward_import_and_a_cycle(tmp_path):
    root = _fake_tree(tmp_path, {
        "__init__.py": "",
        "ops/__init__.py": "from .math import add\n",
        "ops/math.py": "from ..layers.core import Dense\n",       # ops reaches up to layers
        "ops/shape.py": "from .indexing import take\n",
        "ops/indexing.py": "def f():\n    from .shape import reshape\n",  # a cycle, hidden
        "layers/__init__.py": "",
        "layers/core.py": "from .. import ops\nDense = 1\n",
    })
    problems = all_problems(root)
    text = "\n".join(problems)
    assert ("ops/math.py:1: minikeras.ops.math imports minikeras.layers.core: floor 'ops' "
            f"(level {FLOOR['ops']}) reaches up to floor 'layers' (level {FLOOR['layers']})"
            ) in text
    assert "cycle: minikeras.ops.indexing (ops/indexing.py:2) -> minikeras.ops.shape " \
           "(ops/shape.py:1) -> minikeras.ops.indexing" in text
    assert "ops/indexing.py:2: minikeras.ops.indexing imports minikeras.ops.shape inside a " \
           "function" in text
    # ops.math -> layers.core -> ops (its __init__) -> ops.math: the package run counts
    assert any(p.startswith("cycle:") and "minikeras.layers.core (layers/core.py:1)" in p
               for p in problems), text


def test_it_reports_a_module_that_imports_its_own_package(tmp_path):
    root = _fake_tree(tmp_path, {
        "__init__.py": "",
        "losses/__init__.py": "from .classes import Loss\n\ndef get(name):\n    return name\n",
        "losses/classes.py": "from . import get\nfrom . import functions\nLoss = 1\n",
        "losses/functions.py": "from ..losses import get\n",
    })
    text = "\n".join(all_problems(root))
    assert "losses/classes.py:1: minikeras.losses.classes imports its own package " \
           "minikeras.losses" in text
    assert "losses/functions.py:1: minikeras.losses.functions imports its own package" in text
    assert "losses/classes.py:2" not in text  # a submodule by name is fine


def test_it_reports_a_package_without_a_floor(tmp_path):
    root = _fake_tree(tmp_path, {"__init__.py": "", "attic/__init__.py": "",
                                 "attic/old.py": "from .. import tensor\n",
                                 "tensor.py": ""})
    assert "the floor table has no floor for 'attic'" in "\n".join(all_problems(root))
