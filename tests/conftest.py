"""Shared test set-up: Qt runs offscreen, one QApplication for the whole session (pytest-qt)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests and the CLI runs they start never write the user's data folder (models, the library,
# kernels.json): a sandbox for the whole session, unless one is given.
if not os.environ.get("CEOL_DATA_DIR"):
    import tempfile

    os.environ["CEOL_DATA_DIR"] = tempfile.mkdtemp(prefix="ceol-test-data-")
# ... nor the user's cache: numba's compiled sampling kernels (model/fused_cell.py) go there too.
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.environ["CEOL_DATA_DIR"], "numba"))
