"""Shared test set-up: Qt runs offscreen, one QApplication for the whole session (pytest-qt)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests and the CLI runs they start never write the user's data folder (models, the library,
# kernels.json): a sandbox for the whole session, unless one is given.
if not os.environ.get("CEOL_DATA_DIR"):
    import tempfile

    os.environ["CEOL_DATA_DIR"] = tempfile.mkdtemp(prefix="ceol-test-data-")
