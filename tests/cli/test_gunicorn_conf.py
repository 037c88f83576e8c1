"""The gunicorn settings every served process uses (`make run`, the benches, production)."""

from __future__ import annotations

import gc

from pro_app import gunicorn_conf


def test_a_worker_freezes_what_the_loaded_app_keeps() -> None:
    kept = [[n] for n in range(10)]  # stand-ins for the loaded application's objects
    try:
        gunicorn_conf.post_worker_init(worker=None)
        assert gc.get_freeze_count() >= len(kept)
        scanned = {id(o) for o in gc.get_objects()}  # what a full collection walks
        assert not any(id(o) in scanned for o in kept)
        fresh = [0]
        assert any(o is fresh for o in gc.get_objects())  # a request's objects still are
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
