"""Fuzzing model files: header reading, metadata, full loading and the model picker's reader.

The seed is a tiny real Ceol model; mutations replace header or metadata values with hostile
ones (huge numbers, wrong types, empty lists) or damage the bytes (flips, truncation, lying
length fields). The only outcomes allowed are a loaded model or ModelError naming the file.
CEOL_FUZZ_EXAMPLES=100000 runs the long mode.
"""

import pytest
from hypothesis import given, strategies as st

from app.ui.model_files import read_model_info   # Qt-free: struct and json only
from model.checkpoint import load_model
from model.checkpoint_meta import read_metadata
from model.errors import ModelError
from tests.fuzz.raw_midi import fuzz_settings
from tests.fuzz.raw_model import mutate_model, tiny_model_bytes


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    return tiny_model_bytes(tmp_path_factory.mktemp("seed"))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def _mutated(seed, data) -> bytes:
    return mutate_model(seed, lambda lo, hi: data.draw(st.integers(lo, hi)))


def _refused_or_loaded(reader, path):
    try:
        reader(path)
    except ModelError as exc:
        assert str(path) in str(exc)


@fuzz_settings(150)
@given(data=st.data())
def test_fuzz_read_metadata(seed, workdir, data):
    path = workdir / "m.safetensors"
    path.write_bytes(_mutated(seed, data))
    _refused_or_loaded(read_metadata, path)


@fuzz_settings(50)
@given(data=st.data())
def test_fuzz_load_model(seed, workdir, data):
    path = workdir / "m.safetensors"
    path.write_bytes(_mutated(seed, data))
    _refused_or_loaded(load_model, path)


@fuzz_settings(150)
@given(data=st.data())
def test_fuzz_model_picker_reader(seed, workdir, data):
    """app/ui/model_files.read_model_info lists models for the picker."""
    path = workdir / "m.safetensors"
    path.write_bytes(_mutated(seed, data))
    try:
        read_model_info(path)
    except ModelError:
        pass


@pytest.mark.parametrize("header", [b'{"__metadata__": {"ceol": "5"}}', b"[" * 100_000],
                         ids=["number", "deep"])
def test_model_picker_refuses_what_used_to_escape(workdir, header):
    path = workdir / "picker.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    with pytest.raises(ModelError):
        read_model_info(path)
