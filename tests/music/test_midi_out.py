"""Live MIDI out with a fake port and clock; and absent ports handled cleanly."""

import threading

import pytest

from app.music import midi_out
from app.music.abc_midi import abc_to_midi
from app.music.errors import MusicError

TUNE = "X:1\nM:2/4\nL:1/8\nQ:1/4=120\nK:C\nCDE2|\n"


class FakePort:
    def __init__(self, clock):
        self.clock, self.sent = clock, []

    def send(self, msg):
        self.sent.append((round(self.clock.now, 3), msg))


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_messages_go_out_on_time_then_all_notes_off():
    clock = FakeClock()
    port = FakePort(clock)
    sent = midi_out.send_midi(abc_to_midi(TUNE, program=40), port, clock=clock, sleep=clock.sleep)
    notes = [(t, m.note) for t, m in port.sent if m.type == "note_on" and m.velocity]
    assert notes == [(0.0, 60), (0.25, 62), (0.5, 64)]  # eighths at 120 quarter notes a minute
    assert any(m.type == "program_change" and m.program == 40 for _, m in port.sent)
    offs = [m for _, m in port.sent if m.type == "control_change" and m.control == 123]
    assert len(offs) == 16 and sent == len(port.sent) - 16


def test_stop_ends_early_and_silences():
    clock = FakeClock()
    port = FakePort(clock)
    stop = threading.Event()

    def sleep(seconds):
        clock.sleep(seconds)
        if clock.now > 0.3:
            stop.set()

    midi_out.send_midi(abc_to_midi(TUNE), port, stop=stop, clock=clock, sleep=sleep)
    pitches = [m.note for _, m in port.sent if m.type == "note_on" and m.velocity]
    assert pitches == [60, 62]
    assert port.sent[-1][1].control == 123


def test_no_ports_is_a_clear_message(monkeypatch):
    import mido

    def no_midi_system():
        raise RuntimeError("MidiInAlsa::initialize: error creating ALSA sequencer client object")

    monkeypatch.setattr(mido, "get_output_names", no_midi_system)
    assert midi_out.output_ports() == []
    with pytest.raises(MusicError, match="no MIDI output ports"):
        midi_out.open_port()


def test_unknown_port_names_the_ports(monkeypatch):
    monkeypatch.setattr(midi_out, "output_ports", lambda: ["Synth A", "DAW In"])
    with pytest.raises(MusicError, match="there are: Synth A, DAW In"):
        midi_out.open_port("Piano")


def test_this_machine_lists_ports_without_crashing():
    assert isinstance(midi_out.output_ports(), list)
