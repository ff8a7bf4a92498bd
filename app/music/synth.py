"""A small SoundFont 2 sample player in numpy: parse a `.sf2`, turn notes into PCM.

Why our own: the SoundFont synthesizers on PyPI either need a system library (FluidSynth) or pull
in a dependency that builds from source on Linux (tinysoundfont -> pyaudio), and Ceol must install
from wheels alone. This player reads the SF2 RIFF chunks (phdr/pbag/pgen/inst/ibag/igen/shdr/smpl)
with numpy record arrays, picks each note's zones by preset, key and velocity, resamples the zone's
sample by the pitch ratio with linear interpolation, follows its loop points and applies the
SF2 volume envelope (delay, attack, hold, decay, sustain, release), initial attenuation and a
velocity curve. It ignores filters, the modulation envelope, LFOs, modulators, chorus, reverb and
pan (output is mono). Rendered note waveforms are cached by (zone, key, velocity, length), so a
tune that repeats its notes renders in a few tens of milliseconds.

The default General MIDI SoundFont is TimGM6mb.sf2, which the pure-Python `pretty_midi` wheel
ships inside its package; any other `.sf2` can be loaded, and so can `.sf3` files (MuseScore
sftools / Polyphone): SF2 whose `smpl` chunk holds one Ogg Vorbis stream per sample. In `shdr` such
a sample has `sfSampleType & 0x10`, its start/end are byte offsets of the stream within the smpl
data and its loop points are decoded frames counted from the sample's own start (as FluidSynth reads
them). They are decoded once at load with `soundfile` (libsndfile, bundled in its wheels), imported
only when a compressed sample is found, into one float sample pool like an SF2's.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.music.errors import MusicError

log = logging.getLogger(__name__)

DEFAULT_SAMPLE_RATE = 44100
MAX_RELEASE_S = 1.5  # longer release tails are cut: inaudible under the next notes anyway
MASTER_GAIN = 1.5
ENVELOPE_STEP = 32  # frames between envelope values (0.7 ms at 44.1 kHz)
SAMPLE_OGG_VORBIS = 0x10  # sfSampleType flag of an SF3 (Ogg Vorbis-compressed) sample
SAMPLE_GAP = 46  # zero frames after each decoded sample, as the SF2 specification asks

_PHDR = np.dtype([("name", "S20"), ("preset", "<u2"), ("bank", "<u2"), ("bag", "<u2"),
                  ("library", "<u4"), ("genre", "<u4"), ("morphology", "<u4")])
_BAG = np.dtype([("gen", "<u2"), ("mod", "<u2")])
_GEN = np.dtype([("oper", "<u2"), ("amount", "<i2")])
_INST = np.dtype([("name", "S20"), ("bag", "<u2")])
_SHDR = np.dtype([("name", "S20"), ("start", "<u4"), ("end", "<u4"), ("loop_start", "<u4"),
                  ("loop_end", "<u4"), ("rate", "<u4"), ("pitch", "u1"), ("correction", "i1"),
                  ("link", "<u2"), ("type", "<u2")])

# Generator numbers of the SF2 2.01 specification (section 8.1.2).
G_START, G_END, G_LOOP_START, G_LOOP_END, G_START_COARSE = 0, 1, 2, 3, 4
G_END_COARSE, G_LOOP_START_COARSE, G_LOOP_END_COARSE = 12, 45, 50
G_DELAY, G_ATTACK, G_HOLD, G_DECAY, G_SUSTAIN, G_RELEASE = 33, 34, 35, 36, 37, 38
G_INSTRUMENT, G_KEY_RANGE, G_VEL_RANGE, G_KEYNUM, G_VELOCITY = 41, 43, 44, 46, 47
G_ATTENUATION, G_COARSE, G_FINE, G_SAMPLE, G_MODES, G_SCALE, G_ROOT = 48, 51, 52, 53, 54, 56, 58
_DEFAULTS = {G_DELAY: -12000, G_ATTACK: -12000, G_HOLD: -12000, G_DECAY: -12000,
             G_RELEASE: -12000, G_SCALE: 100, G_ROOT: -1, G_KEYNUM: -1, G_VELOCITY: -1}
# Generators a preset zone adds to its instrument's value (the others are instrument-only).
_ADDITIVE = (G_DELAY, G_ATTACK, G_HOLD, G_DECAY, G_SUSTAIN, G_RELEASE, G_ATTENUATION,
             G_COARSE, G_FINE, G_SCALE)


def default_soundfont_path() -> Path:
    """Return the bundled General MIDI SoundFont (TimGM6mb.sf2 from the pretty_midi package).

    Raises MusicError when pretty_midi is not installed. The package is located without
    importing it (its import is slow and pulls in more than a file path needs).
    """
    spec = importlib.util.find_spec("pretty_midi")
    if spec is None or not spec.submodule_search_locations:
        raise MusicError("the default SoundFont comes with the 'pretty_midi' package, which is not "
                         "installed; pip install pretty_midi, or choose a .sf2 file")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "TimGM6mb.sf2"
        if path.is_file():
            return path
    raise MusicError("the pretty_midi package has no TimGM6mb.sf2; choose a .sf2 file")


@dataclass(frozen=True)
class SynthNote:
    """One note to sound: times in seconds, MIDI key 0..127, velocity 1..127, GM program 0..127."""

    start: float
    duration: float
    pitch: int
    velocity: int = 90
    program: int = 0
    drum: bool = False


@dataclass(frozen=True)
class Region:
    """A resolved zone: which keys/velocities it covers and how to play its sample."""

    key_lo: int
    key_hi: int
    vel_lo: int
    vel_hi: int
    start: int          # sample frame indices into the SoundFont's sample pool
    end: int
    loop_start: int
    loop_end: int
    looped: bool
    sample_rate: int
    root_key: int
    tune_cents: float   # coarse + fine + the sample's pitch correction
    scale_tuning: float  # cents per key, 100 normally
    attenuation_cb: float
    delay: float        # volume envelope, seconds (sustain: attenuation in centibels)
    attack: float
    hold: float
    decay: float
    sustain_cb: float
    release: float


def _chunks(data: bytes, start: int, end: int, path: str) -> dict[str, tuple[int, int]]:
    """Map the four-letter ids of the RIFF sub-chunks in data[start:end] to (offset, size)."""
    found: dict[str, tuple[int, int]] = {}
    pos = start
    while pos + 8 <= end:
        cid = data[pos:pos + 4].decode("latin-1")
        size = int.from_bytes(data[pos + 4:pos + 8], "little")
        if pos + 8 + size > end:
            raise MusicError("truncated SoundFont (a chunk runs past the end of the file)", path=path)
        if cid == "LIST":
            found["LIST:" + data[pos + 8:pos + 12].decode("latin-1")] = (pos + 12, size - 4)
        else:
            found[cid] = (pos + 8, size)
        pos += 8 + size + (size & 1)
    return found


class SoundFont:
    """A parsed SoundFont 2: presets by (bank, program), zones resolved on first use."""

    def __init__(self, data: bytes, path: str = "<bytes>") -> None:
        self.path = path
        if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"sfbk":
            raise MusicError("not a SoundFont (.sf2/.sf3) file", path=path)
        top = _chunks(data, 12, len(data), path)
        if "LIST:sdta" not in top or "LIST:pdta" not in top:
            raise MusicError("not a usable SoundFont: sample or preset data missing", path=path)
        sdta = _chunks(data, *_span(top["LIST:sdta"]), path)
        pdta = _chunks(data, *_span(top["LIST:pdta"]), path)
        try:
            tables = {name: np.frombuffer(data, dtype, count=pdta[name][1] // dtype.itemsize,
                                          offset=pdta[name][0])
                      for name, dtype in (("phdr", _PHDR), ("pbag", _BAG), ("pgen", _GEN),
                                          ("inst", _INST), ("ibag", _BAG), ("igen", _GEN),
                                          ("shdr", _SHDR))}
        except KeyError as err:
            raise MusicError(f"not a usable SoundFont: chunk {err} missing", path=path) from None
        self._phdr, self._pbag, self._pgen = tables["phdr"], tables["pbag"], tables["pgen"]
        self._inst, self._ibag, self._igen = tables["inst"], tables["ibag"], tables["igen"]
        self._shdr = tables["shdr"]
        if "smpl" not in sdta:
            raise MusicError("not a usable SoundFont: no sample data", path=path)
        offset, size = sdta["smpl"]
        if np.any(self._shdr["type"][:-1] & SAMPLE_OGG_VORBIS):
            self._shdr = self._shdr.copy()  # start/end/loops are rewritten into the decoded pool
            self.samples = _decode_sf3(data[offset:offset + size], self._shdr, path)
        else:
            self.samples = np.frombuffer(data, "<i2", count=size // 2, offset=offset).astype(np.float32)
            self.samples *= 1.0 / 32768.0
        self._presets = {(int(p["bank"]), int(p["preset"])): i
                         for i, p in enumerate(self._phdr[:-1])}
        self._regions: dict[tuple[int, int], list[Region]] = {}
        if not self._presets:
            raise MusicError("the SoundFont has no presets", path=path)

    @classmethod
    def load(cls, path: str | Path | None = None) -> "SoundFont":
        """Read a `.sf2` or `.sf3` file (the bundled General MIDI one when path is None).

        Raises MusicError naming the file when it is missing, unreadable or not a SoundFont.
        """
        path = Path(path) if path is not None else default_soundfont_path()
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise MusicError("SoundFont not found", path=str(path)) from None
        except OSError as err:
            raise MusicError(f"cannot read the SoundFont: {err.strerror or err}", path=str(path)) from None
        return cls(data, str(path))

    def preset_names(self) -> dict[tuple[int, int], str]:
        """Return {(bank, program): name} for every preset."""
        return {key: self._phdr[i]["name"].split(b"\0")[0].decode("latin-1", "replace")
                for key, i in sorted(self._presets.items())}

    def regions(self, program: int, drum: bool = False) -> list[Region]:
        """Return the zones of a GM program (drums: bank 128), falling back to bank 0 / preset 0."""
        bank = 128 if drum else 0
        for key in ((bank, program), (bank, 0), (0, program), (0, 0)):
            if key in self._presets:
                break
        else:
            key = next(iter(self._presets))
        if key not in self._regions:
            self._regions[key] = self._resolve(self._presets[key])
        return self._regions[key]

    def _zones(self, bags: np.ndarray, gens: np.ndarray, first: int, last: int,
               terminal: int) -> tuple[dict[int, object], list[dict[int, object]]]:
        """Split the bags first..last-1 into a global zone and local zones of {generator: value}."""
        zones = []
        for b in range(first, last):
            zone: dict[int, object] = {}
            for g in gens[bags[b]["gen"]:bags[b + 1]["gen"]]:
                oper, amount = int(g["oper"]), int(g["amount"])
                if oper in (G_KEY_RANGE, G_VEL_RANGE):
                    u = amount & 0xFFFF
                    zone[oper] = (u & 0xFF, u >> 8)
                else:
                    zone[oper] = amount & 0xFFFF if oper in (G_INSTRUMENT, G_SAMPLE) else amount
            zones.append(zone)
        glob: dict[int, object] = {}
        if zones and terminal not in zones[0]:
            glob = zones.pop(0)
        return glob, [z for z in zones if terminal in z]

    def _resolve(self, preset_index: int) -> list[Region]:
        p0, p1 = self._phdr[preset_index]["bag"], self._phdr[preset_index + 1]["bag"]
        pglob, pzones = self._zones(self._pbag, self._pgen, int(p0), int(p1), G_INSTRUMENT)
        regions = []
        for pz in pzones:
            inst = int(pz[G_INSTRUMENT])
            if inst + 1 >= len(self._inst):
                continue
            i0, i1 = int(self._inst[inst]["bag"]), int(self._inst[inst + 1]["bag"])
            iglob, izones = self._zones(self._ibag, self._igen, i0, i1, G_SAMPLE)
            for iz in izones:
                region = self._region({**pglob, **pz}, {**iglob, **iz})
                if region is not None:
                    regions.append(region)
        return regions

    def _region(self, pz: dict, iz: dict) -> Region | None:
        sid = int(iz[G_SAMPLE])
        if sid >= len(self._shdr) - 1:
            return None
        s = self._shdr[sid]

        def inst(g: int) -> float:
            return float(iz.get(g, _DEFAULTS.get(g, 0)))

        def gen(g: int) -> float:
            return inst(g) + (float(pz.get(g, 0)) if g in _ADDITIVE else 0.0)

        def secs(g: int) -> float:
            return float(2.0 ** (max(gen(g), -12000.0) / 1200.0))

        def offset(fine: int, coarse: int) -> int:
            return int(inst(fine) + 32768 * inst(coarse))

        klo = max(iz.get(G_KEY_RANGE, (0, 127))[0], pz.get(G_KEY_RANGE, (0, 127))[0])
        khi = min(iz.get(G_KEY_RANGE, (0, 127))[1], pz.get(G_KEY_RANGE, (0, 127))[1])
        vlo = max(iz.get(G_VEL_RANGE, (0, 127))[0], pz.get(G_VEL_RANGE, (0, 127))[0])
        vhi = min(iz.get(G_VEL_RANGE, (0, 127))[1], pz.get(G_VEL_RANGE, (0, 127))[1])
        start = int(s["start"]) + offset(G_START, G_START_COARSE)
        end = int(s["end"]) + offset(G_END, G_END_COARSE)
        loop_start = int(s["loop_start"]) + offset(G_LOOP_START, G_LOOP_START_COARSE)
        loop_end = int(s["loop_end"]) + offset(G_LOOP_END, G_LOOP_END_COARSE)
        start, end = max(0, start), min(len(self.samples) - 1, end)
        if end - start < 2 or klo > khi or vlo > vhi:
            return None
        modes = int(inst(G_MODES)) & 3
        looped = modes in (1, 3) and start <= loop_start < loop_end - 1 <= end
        root = int(inst(G_ROOT)) if inst(G_ROOT) >= 0 else int(s["pitch"])
        return Region(
            key_lo=klo, key_hi=khi, vel_lo=vlo, vel_hi=vhi, start=start, end=end,
            loop_start=loop_start, loop_end=loop_end, looped=looped,
            sample_rate=max(1, int(s["rate"])), root_key=root if root <= 127 else 60,
            tune_cents=gen(G_COARSE) * 100 + gen(G_FINE) + int(s["correction"]),
            scale_tuning=gen(G_SCALE), attenuation_cb=max(0.0, gen(G_ATTENUATION)),
            delay=secs(G_DELAY), attack=secs(G_ATTACK), hold=secs(G_HOLD), decay=secs(G_DECAY),
            sustain_cb=min(1440.0, max(0.0, gen(G_SUSTAIN))),
            release=min(MAX_RELEASE_S, secs(G_RELEASE)))


def _span(entry: tuple[int, int]) -> tuple[int, int]:
    return entry[0], entry[0] + entry[1]


def _decode_sf3(smpl: bytes, shdr: np.ndarray, path: str) -> np.ndarray:
    """Decode an SF3 smpl chunk into one float32 pool and point shdr (a writable copy) into it.

    Each compressed sample's Ogg Vorbis stream is smpl[start:end] (bytes); an uncompressed one
    (allowed beside them) is 16-bit words start..end. Every sample is followed by SAMPLE_GAP zero
    frames, as in an SF2, so interpolation past a sample's end reads silence.
    """
    try:
        import soundfile
    except ImportError:
        raise MusicError("this SF3 SoundFont has Ogg Vorbis-compressed samples, which need the "
                         "'soundfile' package; pip install soundfile, or choose a .sf2 file",
                         path=path) from None
    import io

    pieces: list[np.ndarray] = []
    pos = 0
    gap = np.zeros(SAMPLE_GAP, dtype=np.float32)
    for i in range(len(shdr) - 1):
        h = shdr[i]
        start, end = int(h["start"]), int(h["end"])
        name = h["name"].split(b"\0")[0].decode("latin-1", "replace")
        if int(h["type"]) & SAMPLE_OGG_VORBIS:
            if not 0 <= start < end <= len(smpl):
                raise MusicError(f"sample '{name}' points outside the sample data", path=path)
            try:
                pcm, _ = soundfile.read(io.BytesIO(smpl[start:end]), dtype="float32",
                                        always_2d=True)
            except (RuntimeError, ValueError, TypeError, OSError) as err:
                # libsndfile's own words, without "Error opening <BytesIO object at ...>: "
                message = getattr(err, "error_string", None) or str(err) or type(err).__name__
                raise MusicError(f"cannot decode the Ogg Vorbis data of sample '{name}': {message}",
                                 path=path) from None
            wave = np.ascontiguousarray(pcm[:, 0])
            loop_start, loop_end = int(h["loop_start"]), int(h["loop_end"])
        else:
            start, end = max(0, start), max(start, min(end, len(smpl) // 2))
            wave = np.frombuffer(smpl, "<i2", count=end - start, offset=2 * start)
            wave = wave.astype(np.float32) * np.float32(1.0 / 32768.0)
            loop_start, loop_end = int(h["loop_start"]) - start, int(h["loop_end"]) - start
        shdr["start"][i] = pos
        shdr["end"][i] = pos + len(wave)
        shdr["loop_start"][i] = pos + min(max(loop_start, 0), len(wave))
        shdr["loop_end"][i] = pos + min(max(loop_end, 0), len(wave))
        pieces += [wave, gap]
        pos += len(wave) + SAMPLE_GAP
    return np.concatenate(pieces) if pieces else np.zeros(SAMPLE_GAP, dtype=np.float32)


class Renderer:
    """Turn a list of SynthNotes into mono float32 PCM, whole or a window at a time.

    `render(start_s, end_s)` renders only the notes that sound in the window, so a player can
    hand its first buffer to the audio sink long before the whole tune would be rendered.
    """

    def __init__(self, notes: list[SynthNote], soundfont: SoundFont,
                 sample_rate: int = DEFAULT_SAMPLE_RATE) -> None:
        self.soundfont = soundfont
        self.sample_rate = sample_rate
        self.notes = sorted(notes, key=lambda n: n.start)
        self._cache: dict[tuple, np.ndarray] = {}
        self._raw: dict[tuple, tuple[np.ndarray, bool]] = {}
        self._starts = np.array([round(n.start * sample_rate) for n in self.notes], dtype=np.int64)
        self._waves: list[list[np.ndarray] | None] = [None] * len(self.notes)
        tail = max((n.start + n.duration for n in self.notes), default=0.0)
        self.duration = tail  # seconds until the last note ends (release tails not counted)
        self.frames = int(round((tail + 0.5) * sample_rate)) if self.notes else 0

    def render(self, start_s: float = 0.0, end_s: float | None = None) -> np.ndarray:
        """Return PCM (float32, shape (frames,), range about -1..1) from start_s to end_s."""
        a = max(0, int(round(start_s * self.sample_rate)))
        b = self.frames if end_s is None else min(self.frames, int(round(end_s * self.sample_rate)))
        out = np.zeros(max(0, b - a), dtype=np.float32)
        if b <= a:
            return out
        longest = int((max((n.duration for n in self.notes), default=0) + MAX_RELEASE_S)
                      * self.sample_rate) + 1
        first = int(np.searchsorted(self._starts, a - longest))
        last = int(np.searchsorted(self._starts, b))
        for i in range(first, last):
            s0 = int(self._starts[i])
            for wave in self._note_waves(i):
                lo, hi = max(a, s0), min(b, s0 + len(wave))
                if lo < hi:
                    out[lo - a:hi - a] += wave[lo - s0:hi - s0]
        np.clip(out, -1.0, 1.0, out=out)
        return out

    def _note_waves(self, i: int) -> list[np.ndarray]:
        waves = self._waves[i]
        if waves is None:
            note = self.notes[i]
            n_on = max(1, int(round(note.duration * self.sample_rate)))
            waves = []
            for region in self.soundfont.regions(note.program, note.drum):
                if region.key_lo <= note.pitch <= region.key_hi and \
                        region.vel_lo <= note.velocity <= region.vel_hi:
                    key = (id(region), note.pitch, note.velocity, n_on)
                    if key not in self._cache:
                        self._cache[key] = self._voice(region, note.pitch, note.velocity, n_on)
                    waves.append(self._cache[key])
            self._waves[i] = waves
        return waves

    def _voice(self, r: Region, pitch: int, velocity: int, n_on: int) -> np.ndarray:
        """Render one zone for one key: resampled sample times envelope, shape (frames,)."""
        n = n_on + int(r.release * self.sample_rate)
        wave = self._resampled(r, pitch, n)
        n = len(wave)
        gain = MASTER_GAIN * 10.0 ** (-r.attenuation_cb / 200.0) * (velocity / 127.0) ** 2
        env = self._envelope(r, n, n_on)
        env *= np.float32(gain)
        return wave * env

    def _resampled(self, r: Region, pitch: int, n: int) -> np.ndarray:
        """The zone's sample played at this key for n frames (fewer when an unlooped sample ends).

        Cached per (zone, key) and shared by notes of any length: only the envelope differs.
        """
        key = (id(r), pitch)
        cached = self._raw.get(key)
        if cached is not None and (len(cached[0]) >= n or cached[1]):
            return cached[0][:n]
        n = max(n, 2 * len(cached[0]) if cached is not None else n)
        cents = (pitch - r.root_key) * r.scale_tuning + r.tune_cents
        step = 2.0 ** (cents / 1200.0) * r.sample_rate / self.sample_rate
        pos = np.arange(n, dtype=np.float64) * step
        complete = False
        if r.looped:
            loop_from = r.loop_start - r.start
            loop_len = r.loop_end - r.loop_start
            over = pos >= loop_from + loop_len
            pos[over] = loop_from + np.mod(pos[over] - loop_from, loop_len)
        else:
            last = int((r.end - r.start - 1) / step)
            complete = n >= last
            pos = pos[:min(n, last)]
        idx = pos.astype(np.int64)
        frac = (pos - idx).astype(np.float32)
        data = self.soundfont.samples[r.start:r.end + 1]
        left = data[idx]
        wave = left + (data[np.minimum(idx + 1, len(data) - 1)] - left) * frac
        self._raw[key] = (wave, complete)
        return wave[:n]

    def _envelope(self, r: Region, n: int, n_on: int) -> np.ndarray:
        """SF2 volume envelope: linear attack, then decay/release linear in decibels.

        Computed every ENVELOPE_STEP frames and held in between (steps of well under 1 dB),
        except the attack ramp, which is per frame so note starts do not click.
        """
        rate = self.sample_rate
        blocks = -(-n // ENVELOPE_STEP)
        t = np.arange(blocks, dtype=np.float32) * (ENVELOPE_STEP / rate)
        t_on = n_on / rate
        peak = r.delay + r.attack + r.hold
        knots = [0.0, peak, peak + r.decay * (r.sustain_cb / 1000.0)]
        sustain_db = -r.sustain_cb / 10.0
        db = np.interp(t, knots, [0.0, 0.0, sustain_db]).astype(np.float32)
        released = t > t_on
        if np.any(released):
            db_off = float(np.interp(t_on, knots, [0.0, 0.0, sustain_db]))
            db[released] = db_off - 100.0 * (t[released] - t_on) / max(r.release, 1e-3)
        env = np.repeat(np.power(np.float32(10.0), db / 20.0), ENVELOPE_STEP)[:n]
        ramp = int((r.delay + r.attack) * rate) + 1
        if r.attack > 1e-3 or r.delay > 1e-3:
            ta = np.arange(min(n, ramp), dtype=np.float32) / rate
            env[:len(ta)] *= np.clip((ta - r.delay) / max(r.attack, 1e-3), 0.0, 1.0)
        return env


def midi_to_synth_notes(midi: bytes, *, transpose: int = 0,
                        program: int | None = None, label: str | None = None) -> list[SynthNote]:
    """Read MIDI bytes (type 0 or 1) into SynthNotes with times in seconds (tempo map honoured).

    program overrides every non-drum channel's program. Raises MusicError for unreadable MIDI.
    """
    import io

    import mido

    try:
        midi_file = mido.MidiFile(file=io.BytesIO(midi))
        messages = list(midi_file)
    except (OSError, ValueError, EOFError, KeyError, IndexError) as err:
        raise MusicError(f"cannot read the MIDI data: {err}", path=label) from None
    now = 0.0
    programs = [0] * 16
    sounding: dict[tuple[int, int], tuple[float, int]] = {}
    notes = []
    for msg in messages:
        now += msg.time
        if msg.type == "program_change":
            programs[msg.channel] = msg.program
        elif msg.type in ("note_on", "note_off"):
            key = (msg.channel, msg.note)
            if key in sounding:
                start, velocity = sounding.pop(key)
                ch = msg.channel
                drum = ch == 9
                pitch = msg.note if drum else min(127, max(0, msg.note + transpose))
                prog = programs[ch] if (program is None or drum) else program
                notes.append(SynthNote(start, max(0.0, now - start), pitch, velocity, prog, drum))
            if msg.type == "note_on" and msg.velocity > 0:
                sounding[key] = (now, msg.velocity)
    return notes


_LOADED: dict[tuple[str, float], SoundFont] = {}


def cached_soundfont(path: str | Path | None = None) -> SoundFont:
    """Return the SoundFont at path (default: the bundled one), parsed once per file version."""
    path = Path(path) if path is not None else default_soundfont_path()
    try:
        key = (str(path.resolve()), path.stat().st_mtime)
    except OSError:
        return SoundFont.load(path)  # raises the right MusicError
    if key not in _LOADED:
        _LOADED.clear()  # keep one: a SoundFont's samples take megabytes
        _LOADED[key] = SoundFont.load(path)
    return _LOADED[key]
