#!/usr/bin/env python3
"""Scores our encoder against LAME with ViSQOL (audio mode, MOS-LQO) on the
clips from make_clips.py, at 128 kbit/s CBR and at VBR quality 2.

Every MP3 is decoded by mpg123 (gapless: it trims what an Info/LAME tag
records), cut to the input length, and both reference and decoded audio are
resampled to the 48 kHz ViSQOL's audio mode expects.

Usage: score.py LOSSY_BINARY CLIPDIR [--settings cbr128,vbr2] [--json OUT]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile

import numpy as np
import soundfile

SETTINGS = {
    "cbr128": (["-b", "128"], ["--bitrate", "128"]),
    "vbr2": (["-V", "2"], ["--vbr", "2"]),
    "cbr320": (["-b", "320"], ["--bitrate", "320"]),
    "cbr192": (["-b", "192"], ["--bitrate", "192"]),
    "cbr256": (["-b", "256"], ["--bitrate", "256"]),
}


def run(*command):
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def decoded(mp3, length):
    wav = mp3 + ".wav"
    run("mpg123", "-q", "-e", "f32", "-w", wav, mp3)
    audio, _ = soundfile.read(wav, dtype="float64", always_2d=True)
    if len(audio) < length:
        audio = np.vstack([audio, np.zeros((length - len(audio), audio.shape[1]))])
    return audio[:length]


def at_48k(audio, rate, path):
    raw = path + ".in.wav"
    soundfile.write(raw, audio, rate, subtype="FLOAT")
    run("sox", "-D", raw, "-e", "floating-point", "-b", "32", path, "rate", "-v", "48000")
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("lossy")
    parser.add_argument("clips")
    parser.add_argument("--settings", default="cbr128")
    parser.add_argument("--json")
    parser.add_argument("--lossy-flags", default="", help="extra flags for our encoder, space-separated")
    parser.add_argument("--only", help="comma-separated clip names")
    args = parser.parse_args()

    from visqol import VisqolApi
    api = VisqolApi()
    api.create(mode="audio")

    results = {}
    with tempfile.TemporaryDirectory() as work:
        for clip in sorted(f for f in os.listdir(args.clips) if f.endswith(".wav")):
            name = clip[:-4]
            if args.only and name not in args.only.split(","):
                continue
            source = os.path.join(args.clips, clip)
            reference, rate = soundfile.read(source, dtype="float64", always_2d=True)
            ref48 = at_48k(reference, rate, os.path.join(work, name + ".ref48.wav"))
            for setting in args.settings.split(","):
                lame_flags, our_flags = SETTINGS[setting]
                row = {}
                for coder in ("lame", "lossy"):
                    mp3 = os.path.join(work, f"{name}.{setting}.{coder}.mp3")
                    if coder == "lame":
                        run("lame", "--quiet", *lame_flags, source, mp3)
                    else:
                        run(args.lossy, "encode", source, "-o", mp3, *our_flags, *args.lossy_flags.split())
                    audio = decoded(mp3, len(reference))
                    deg48 = at_48k(audio, rate, mp3 + ".48.wav")
                    row[coder] = {
                        "mos": round(api.measure(ref48, deg48).moslqo, 3),
                        "kbps": round(os.path.getsize(mp3) * 8 / (len(reference) / rate) / 1000, 1),
                    }
                results.setdefault(setting, {})[name] = row
                print(f"{setting:7} {name:13} lame {row['lame']['mos']:.3f} ({row['lame']['kbps']:5.1f} kbps)"
                      f"  lossy {row['lossy']['mos']:.3f} ({row['lossy']['kbps']:5.1f} kbps)"
                      f"  diff {row['lossy']['mos'] - row['lame']['mos']:+.3f}", flush=True)
    for setting, rows in results.items():
        lame = statistics.median(r["lame"]["mos"] for r in rows.values())
        ours = statistics.median(r["lossy"]["mos"] for r in rows.values())
        worst = min(r["lossy"]["mos"] - r["lame"]["mos"] for r in rows.values())
        print(f"{setting:7} median lame {lame:.3f} lossy {ours:.3f}; worst clip difference {worst:+.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
