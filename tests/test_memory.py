"""Trimming the C heap after jobs: at most once a second, whatever the number of jobs."""

import app.memory as memory


def test_trims_after_jobs_at_most_once_per_interval(monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "release_free_memory", lambda: calls.append(1))
    monkeypatch.setattr(memory, "_last", 0.0)
    clock = iter([100.0, 100.0, 100.5, 101.2, 101.2])
    now = lambda: next(clock)   # noqa: E731
    assert memory.release_after_job(now)          # 100.0: runs
    assert not memory.release_after_job(now)      # 100.5: too soon
    assert memory.release_after_job(now)          # 101.2: runs
    assert calls == [1, 1]
