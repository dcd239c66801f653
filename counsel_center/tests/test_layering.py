"""Imports run one way (docs/architecture.md, "Layout"): an app imports only apps of lower layers.

    console, center_settings → stats → consultations → customers → counsel_center

simulator and demo sit on top and may import any app; no app imports them, nor
the console or center_settings (side by side: neither imports the other). The
project's URLconf (counsel_center/urls.py) wires every app and is the one
exception. Every module of the apps is read with `ast`, imports
inside functions included; test modules (tests/, conftest.py) are exempt.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Lowest first. An app may import its own modules and those of apps in lower layers.
LAYERS = (
    ("counsel_center",),
    ("customers",),
    ("consultations",),
    ("stats",),
    ("console", "center_settings"),
    ("simulator", "demo"),
)
LAYER_OF = {app: n for n, apps in enumerate(LAYERS) for app in apps}
# The project's URLconf includes every app's views.
EXEMPT = {"counsel_center/urls.py"}


def imported_modules(source: str, module: str) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in `source`, relative ones resolved from the dotted `module`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".")[: -node.level]
                name = ".".join([*package, node.module] if node.module else package)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def layering_errors(path: str, source: str) -> list[str]:
    """What `path` (relative to the repository, e.g. "consultations/lifecycle.py") imports from above its layer."""
    module = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
    app = module.split(".")[0]
    errors = []
    for line, name in imported_modules(source, module):
        target = name.split(".")[0]
        if target in LAYER_OF and target != app and LAYER_OF[target] >= LAYER_OF[app]:
            errors.append(f"{path}:{line} imports {name} ({target} is not below {app})")
    return errors


def app_modules() -> list[str]:
    paths = []
    for app in LAYER_OF:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "tests" in relative.parts or relative.name == "conftest.py" or relative.as_posix() in EXEMPT:
                continue
            paths.append(relative.as_posix())
    return paths


def test_every_app_is_placed_in_a_layer():
    from django.apps import apps

    project_apps = {config.name for config in apps.get_app_configs() if (ROOT / config.name).is_dir()}
    assert project_apps == set(LAYER_OF)


def test_no_module_imports_an_app_above_its_own():
    modules = app_modules()
    assert len(modules) > 50  # the walk found the code

    errors = [error for path in modules for error in layering_errors(path, (ROOT / path).read_text())]

    assert errors == []


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("consultations/lifecycle.py", "from console import filters\n"),
        ("consultations/lifecycle.py", "def late():\n    import console.views.chat\n"),
        ("consultations/channel/webhook.py", "from console.search import newest_matches\n"),
        ("customers/rules.py", "from consultations.models import Consultation\n"),
        ("counsel_center/models.py", "from simulator import views\n"),
        ("stats/rollup.py", "from demo import stories\n"),
        ("simulator/views.py", "from demo import stories\n"),
        ("console/views/chat.py", "from simulator.views import simulator_page\n"),
        ("consultations/lifecycle.py", "from center_settings.forms import CenterSettingsForm\n"),
        ("console/views/list.py", "from center_settings.access import may_open_settings\n"),
        ("center_settings/views/center.py", "from console.views import list\n"),
    ],
)
def test_an_import_from_above_is_named(path, source):
    (error,) = layering_errors(path, source)

    assert error.startswith(f"{path}:") and " imports " in error


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("console/views/chat.py", "from consultations import lifecycle\nfrom ..filters import FLAGS\n"),
        ("consultations/channel/webhook.py", "from .. import lifecycle\nfrom customers import rules\n"),
        ("demo/management/commands/seed_demo.py", "from stats import rollup\nfrom console import search\n"),
        ("stats/rollup.py", "from consultations.models import Consultation\n"),
        ("center_settings/access.py", "from consultations.admin_assist import CenterContentAdmin\n"),
    ],
)
def test_an_import_from_below_or_within_passes(path, source):
    assert layering_errors(path, source) == []
