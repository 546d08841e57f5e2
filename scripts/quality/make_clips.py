#!/usr/bin/env python3
"""Renders the listening-test clips: six real-instrument recordings made with
fluidsynth and Debian's FluidR3 General MIDI soundfont, and speech from
espeak-ng. Every clip is 5 s, 44.1 kHz, 16-bit stereo, and the same on every
run (fixed note lists, reverb and chorus off), so scores are comparable.

Usage: make_clips.py OUTDIR
"""
import os
import struct
import subprocess
import sys
import tempfile

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
TICKS = 480          # per quarter note
TEMPO_US = 500_000   # 120 bpm: one quarter = 0.5 s
CLIP_SECONDS = 5


def variable_length(value):
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.insert(0, 0x80 | (value & 0x7F))
        value >>= 7
    return bytes(out)


def midi_file(notes, programs):
    """notes: (start_beats, length_beats, channel, key, velocity);
    programs: {channel: General MIDI program number}."""
    events = [(0, bytes([0xFF, 0x51, 3]) + TEMPO_US.to_bytes(3, "big"))]
    for channel, program in programs.items():
        events.append((0, bytes([0xC0 | channel, program])))
    for start, length, channel, key, velocity in notes:
        on = round(start * TICKS)
        events.append((on, bytes([0x90 | channel, key, velocity])))
        events.append((on + max(1, round(length * TICKS)), bytes([0x80 | channel, key, 0])))
    events.sort(key=lambda e: (e[0], e[1][0] & 0xF0 == 0x90))
    track, now = bytearray(), 0
    for time, data in events:
        track += variable_length(time - now) + data
        now = time
    track += variable_length(0) + bytes([0xFF, 0x2F, 0])
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


def castanets():
    # GM percussion key 85 is castanets: rolls and single strokes with
    # silence between, the classic pre-echo test.
    notes, beat = [], 0.0
    for bar in range(5):
        for offset in (0.0, 0.75, 1.0, 1.125, 1.25, 1.5, 2.5, 3.0, 3.25):
            notes.append((beat + offset, 0.1, 9, 85, 110 if offset in (0.0, 1.5) else 90))
        beat += 4 * 0.5 if bar % 2 else 3.5 * 0.5
    return notes, {}


def glockenspiel():
    melody = [79, 84, 88, 91, 88, 84, 86, 89, 93, 89, 86, 83, 79, 84, 88, 96]
    return [(i * 0.5, 0.45, 0, key, 100) for i, key in enumerate(melody)], {0: 9}


def guitar_nylon():
    pattern = [40, 47, 52, 55, 59, 64, 59, 55]
    chords = [0, 5, 7, 0, 3]
    notes = []
    for c, shift in enumerate(chords):
        for i, key in enumerate(pattern):
            notes.append((c * 2 + i * 0.25, 1.0, 0, key + shift, 85))
    return notes, {0: 24}


def harpsichord():
    line = [60, 64, 67, 72, 71, 67, 62, 65, 69, 74, 72, 69, 64, 67, 71, 76]
    notes = [(i * 0.25, 0.24, 0, key, 100) for i, key in enumerate(line * 2)]
    notes += [(i * 1.0, 0.95, 0, key, 90) for i, key in enumerate([48, 43, 45, 41, 48, 43, 45, 41])]
    return notes, {0: 6}


def piano_chords():
    chords = [(48, 60, 64, 67), (45, 57, 60, 64), (41, 53, 57, 60), (43, 55, 59, 62, 65)]
    notes = []
    for c, chord in enumerate(chords + chords[:1]):
        for key in chord:
            notes.append((c * 2.0, 1.9, 0, key, 80 + (key % 7) * 4))
    return notes, {0: 0}


def dense_mix():
    notes = []
    for beat in range(20):
        t = beat * 0.5
        notes.append((t, 0.2, 9, 36 if beat % 2 == 0 else 38, 110))    # kick / snare
        notes.append((t, 0.1, 9, 42, 80))                               # closed hi-hat
        notes.append((t + 0.25, 0.1, 9, 42, 60))
        notes.append((t, 0.45, 1, [36, 36, 43, 41][beat // 4 % 4], 100))  # bass
    for c, chord in enumerate([(60, 64, 67), (55, 59, 62), (57, 60, 64), (53, 57, 60)] * 2):
        for key in chord:
            notes.append((c * 1.25, 1.2, 2, key, 70))                   # strings
            notes.append((c * 1.25 + 0.5, 0.4, 3, key + 12, 75))       # piano
    return notes, {1: 33, 2: 48, 3: 0}


INSTRUMENTS = {
    "castanets": castanets,
    "dense_mix": dense_mix,
    "glockenspiel": glockenspiel,
    "guitar_nylon": guitar_nylon,
    "harpsichord": harpsichord,
    "piano_chords": piano_chords,
}

SPEECH = ("Copying intelligence is far cheaper than creating it, and a copy "
          "is never the whole. Listen closely to what is thrown away.")


def run(*command):
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def to_clip(raw, out):
    """Any WAV to 5 s, 44.1 kHz, 16-bit stereo, padded with silence."""
    run("sox", "-D", raw, "-b", "16", "-c", "2", out, "rate", "-v", "44100",
        "pad", "0", str(CLIP_SECONDS), "trim", "0", str(CLIP_SECONDS))


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        for name, make in INSTRUMENTS.items():
            notes, programs = make()
            mid = os.path.join(work, name + ".mid")
            raw = os.path.join(work, name + ".raw.wav")
            with open(mid, "wb") as f:
                f.write(midi_file(notes, programs))
            run("fluidsynth", "-ni", "-R", "0", "-C", "0", "-g", "0.6", "-r", "44100",
                "-F", raw, SOUNDFONT, mid)
            to_clip(raw, os.path.join(outdir, name + ".wav"))
        raw = os.path.join(work, "speech.raw.wav")
        run("espeak-ng", "-s", "150", "-w", raw, SPEECH)
        to_clip(raw, os.path.join(outdir, "speech.wav"))


if __name__ == "__main__":
    main()
