#!/usr/bin/env python3
"""Renders the listening-test clips: six real-instrument recordings made with
fluidsynth and Debian's FluidR3 General MIDI soundfont, and speech from
espeak-ng. Every clip is 5 s, 44.1 kHz, 16-bit stereo, and the same on every
run (fixed note lists, reverb and chorus off), so scores are comparable.

With --held-out, fourteen other clips instead (twelve instruments and mixes,
two more voices), rendered the same way: a second set to check a change
against, so that what helps the seven does not merely fit them. (Its name
says what it was made for; the 2026-12-07 encoder changes were chosen
looking at both sets, so for those it is not a blind check.)

Usage: make_clips.py OUTDIR [--held-out]
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


# The held-out set.


def melodic(program, keys, step=0.5, length=0.45, vel=95, channel=0):
    return [(i * step, length, channel, k, vel) for i, k in enumerate(keys)], {channel: program}


def sustained(program, chords, length, velocity):
    """A chord every 2 beats, each held for `length` beats."""
    notes = [(c * 2.0, length, 0, key, velocity) for c, chord in enumerate(chords) for key in chord]
    return notes, {0: program}


def strings():
    # GM 48, string ensemble.
    chords = [(55, 62, 67, 71), (57, 60, 64, 69), (53, 60, 65, 69), (55, 59, 62, 67), (55, 62, 67, 71)]
    return sustained(48, chords, 1.95, 85)


def flute():
    return melodic(
        73, [72, 74, 76, 79, 81, 79, 76, 74, 72, 71, 72, 74, 76, 77, 79, 84, 83, 81, 79, 77], 0.5, 0.48
    )


def trumpet():
    return melodic(
        56, [67, 67, 72, 76, 79, 76, 72, 67, 69, 71, 72, 74, 76, 74, 72, 71, 72, 79, 84, 72], 0.5, 0.4, 105
    )


def organ():
    chords = [(48, 55, 64, 72), (53, 57, 65, 72), (55, 59, 67, 74), (48, 55, 64, 72), (48, 55, 64, 72)]
    return sustained(19, chords, 1.9, 90)


def drumkit():
    notes = []
    for beat in range(40):
        t = beat * 0.25
        if beat % 4 == 0:
            notes.append((t, 0.2, 9, 36, 120))
        if beat % 8 == 4:
            notes.append((t, 0.2, 9, 38, 115))
        notes.append((t, 0.1, 9, 42 if beat % 8 != 6 else 46, 70 + (beat % 2) * 20))
        if beat % 16 == 15:
            notes.append((t, 0.2, 9, 49, 110))
    return notes, {}


def bass_guitar():
    return melodic(
        33, [28, 28, 40, 28, 31, 31, 43, 31, 33, 33, 45, 33, 35, 35, 47, 35, 28, 40, 28, 40], 0.5, 0.45, 110
    )


def marimba():
    return melodic(
        12,
        [60, 64, 67, 72, 76, 72, 67, 64, 62, 65, 69, 74, 77, 74, 69, 65, 64, 67, 72, 79] * 2,
        0.25,
        0.24,
        100,
    )


def vibraphone():
    return melodic(11, [65, 69, 72, 76, 77, 76, 72, 69, 67, 71, 74, 79], 0.8, 0.75, 90)


def steel_guitar():
    notes = []
    for c, shift in enumerate([0, 5, 7, 0, 0]):
        for i, key in enumerate([40, 47, 52, 56, 59, 64]):
            notes.append((c * 2 + i * 0.06, 1.8, 0, key + shift, 95))
    return notes, {0: 25}


def choir():
    chords = [(57, 64, 69, 72), (55, 62, 67, 71), (53, 60, 65, 69), (52, 59, 64, 68), (57, 64, 69, 72)]
    return sustained(52, chords, 1.95, 90)


def pop_mix():
    notes = []
    for beat in range(20):
        t = beat * 0.5
        notes.append((t, 0.2, 9, 36 if beat % 2 == 0 else 40, 115))
        notes.append((t + 0.25, 0.1, 9, 44, 70))
        notes.append((t, 0.45, 1, [40, 40, 45, 43][beat // 4 % 4], 105))
    for c, ch in enumerate([(64, 67, 71), (64, 69, 72), (62, 67, 71), (62, 66, 69)] * 2):
        for k in ch:
            notes.append((c * 1.25, 1.2, 2, k, 80))
    mel = [76, 79, 81, 79, 76, 74, 72, 74, 76, 79]
    for i, k in enumerate(mel):
        notes.append((i * 1.0, 0.9, 3, k, 90))
    return notes, {1: 34, 2: 5, 3: 81}


def harp():
    return melodic(46, [48, 55, 60, 64, 67, 72, 76, 79, 84, 79, 76, 72, 67, 64, 60, 55] * 2, 0.3, 1.0, 95)


HELD_OUT = dict(
    strings=strings,
    flute=flute,
    trumpet=trumpet,
    organ=organ,
    drumkit=drumkit,
    bass_guitar=bass_guitar,
    marimba=marimba,
    vibraphone=vibraphone,
    steel_guitar=steel_guitar,
    choir=choir,
    pop_mix=pop_mix,
    harp=harp,
)
HELD_OUT_SPEECH = (
    "The quick brown fox jumps over the lazy dog, while seven wise owls watch "
    "quietly from the old oak tree."
)
HELD_OUT_VOICES = (("en+f3", "speech_female"), ("de", "speech_german"))


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
    held_out = "--held-out" in sys.argv[2:]
    os.makedirs(outdir, exist_ok=True)
    instruments = HELD_OUT if held_out else INSTRUMENTS
    voices = [(voice, name, HELD_OUT_SPEECH) for voice, name in HELD_OUT_VOICES] if held_out else [(None, "speech", SPEECH)]
    with tempfile.TemporaryDirectory() as work:
        for name, make in instruments.items():
            notes, programs = make()
            mid = os.path.join(work, name + ".mid")
            raw = os.path.join(work, name + ".raw.wav")
            with open(mid, "wb") as f:
                f.write(midi_file(notes, programs))
            run("fluidsynth", "-ni", "-R", "0", "-C", "0", "-g", "0.6", "-r", "44100",
                "-F", raw, SOUNDFONT, mid)
            to_clip(raw, os.path.join(outdir, name + ".wav"))
        for voice, name, text in voices:
            raw = os.path.join(work, name + ".raw.wav")
            run("espeak-ng", *(["-v", voice, "-s", "140"] if voice else ["-s", "150"]), "-w", raw, text)
            to_clip(raw, os.path.join(outdir, name + ".wav"))


if __name__ == "__main__":
    main()
