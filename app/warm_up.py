"""Do at start-up, off the GUI thread, what the first Generate and the first Play would wait for.

Loads torch's libraries (with the GIL released, app.native_libs), starts the music21 worker
process and the engraver, reads the default model into the shared cache and prepares its
sampling weights. An ordinary job in the window (app/ui/jobs.warm_up); a failure here is left
for the real job to report.
"""

from __future__ import annotations

import logging
import time

from app.model_cache import MODELS

log = logging.getLogger(__name__)


def warm_up(model_path: str | None, count: int = 8) -> float:
    """Warm everything up for `count` variations of `model_path`; return the seconds taken."""
    start = time.perf_counter()
    try:
        from app.native_libs import preload_torch_libraries

        preload_torch_libraries()   # with the GIL released: the window keeps running
        from app.music import notation
        from app.music.audio import load_music21
        from app.music.isolate import shared

        shared("music21").call(load_music21, timeout=None)   # playback and the piano roll
        shared("repair").start()             # checks and repairs generated tunes
        from model.config import SampleConfig
        from model.sample import prepare_sampling

        notation.warm_up()
        if model_path:
            model = MODELS.get(model_path).model.to("cpu").eval()
            prepare_sampling(model, SampleConfig(count=count))
    except Exception:  # noqa: BLE001 - a bad model or missing module is reported when used
        log.debug("warm-up stopped early", exc_info=True)
    return time.perf_counter() - start
