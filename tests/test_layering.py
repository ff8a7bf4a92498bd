"""The dependency arrows: core packages never load Qt; --help loads neither torch nor music21."""

import subprocess
import sys

import pytest

CORE_MODULES = ["app.music", "app.cli", "model"]


def _loaded_after(statement: str) -> set[str]:
    code = f"{statement}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("package", CORE_MODULES)
def test_core_package_does_not_load_qt(package):
    import importlib
    import pkgutil

    names = [package]
    mod = importlib.import_module(package)
    if hasattr(mod, "__path__"):
        names += [f"{package}.{m.name}" for m in pkgutil.iter_modules(mod.__path__)]
    statement = "\n".join(f"import {n}" for n in names)
    assert not any(m.startswith("PySide6") for m in _loaded_after(statement))


def test_help_imports_neither_torch_nor_music21():
    loaded = _loaded_after("import app.cli\napp.cli.build_parser()")
    assert "torch" not in loaded
    assert "music21" not in loaded
