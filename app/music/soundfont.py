"""SoundFont 2 files read in numpy: presets, their zones resolved into playable `Region`s.

Why our own: the SoundFont synthesizers on PyPI either need a system library (FluidSynth) or pull
in a dependency that builds from source on Linux (tinysoundfont -> pyaudio), and Ceol must install
from wheels alone. `SoundFont` reads the SF2 RIFF chunks (phdr/pbag/pgen/inst/ibag/igen/shdr/smpl)
with numpy record arrays and resolves a preset's zones on first use into `Region`s: key and
velocity ranges, sample and loop frames, tuning and the volume envelope in seconds. `synth`
plays them.

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.music.errors import MusicError

MAX_RELEASE_S = 1.5  # longer release tails are cut: inaudible under the next notes anyway
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
