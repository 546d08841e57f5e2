#!/usr/bin/env python3
"""Scores our encoder against LAME with ViSQOL (audio mode, MOS-LQO) on the
clips from make_clips.py, at 128 kbit/s CBR and at VBR quality 2.

Every MP3 is decoded by mpg123 (gapless: it trims what an Info/LAME tag
records), cut to the input length, and both reference and decoded audio are
resampled to the 48 kHz ViSQOL's audio mode expects.

With --check, every MP3 of ours must also decode cleanly in ffmpeg and
mpg123, pass mp3val, decode (mpg123, trimmed) to exactly the input's length,
and, when variable, give ffprobe its duration without estimating; the first
failure ends the run with exit status 1.

Usage: score.py LOSSY_BINARY CLIPDIR [--settings cbr128,vbr2] [--json OUT] [--check]
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
    "vbr1": (["-V", "1"], ["--vbr", "1"]),
    "vbr0": (["-V", "0"], ["--vbr", "0"]),
    "vbr5": (["-V", "5"], ["--vbr", "5"]),
    "cbr320": (["-b", "320"], ["--bitrate", "320"]),
    "cbr192": (["-b", "192"], ["--bitrate", "192"]),
    "cbr256": (["-b", "256"], ["--bitrate", "256"]),
}


def run(*command):
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def decoded(mp3, length, check=False):
    wav = mp3 + ".wav"
    run("mpg123", "-q", "-e", "f32", "-w", wav, mp3)
    audio, _ = soundfile.read(wav, dtype="float64", always_2d=True)
    if check and len(audio) != length:
        fail(f"{mp3}: mpg123 decodes {len(audio)} samples, the input has {length}")
    if len(audio) < length:
        audio = np.vstack([audio, np.zeros((length - len(audio), audio.shape[1]))])
    return audio[:length]


def fail(message):
    print(f"check failed: {message}", flush=True)
    raise SystemExit(1)


def referee(mp3, variable):
    """ffmpeg and mp3val accept the file; ffprobe reads a VBR duration without estimating."""
    ff = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", mp3, "-f", "null", "-"], capture_output=True, text=True)
    if ff.returncode != 0 or ff.stderr.strip():
        fail(f"{mp3}: ffmpeg says {ff.stderr.strip()!r}")
    val = subprocess.run(["mp3val", mp3], capture_output=True, text=True).stdout
    problems = [line for line in val.splitlines()
                if ("WARNING" in line or "ERROR" in line) and "No supported tags in the file" not in line]
    if problems:
        fail(f"{mp3}: mp3val says {problems}")
    if variable:
        probe = subprocess.run(["ffprobe", "-v", "warning", "-show_entries", "format=duration", "-of", "csv=p=0", mp3],
                               capture_output=True, text=True)
        if probe.returncode != 0 or "Estimating" in probe.stderr:
            fail(f"{mp3}: ffprobe says {probe.stderr.strip()!r}")


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
    parser.add_argument("--check", action="store_true", help="referee every MP3 of ours (see above)")
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
                    checking = args.check and coder == "lossy"
                    if checking:
                        referee(mp3, variable=setting.startswith("vbr"))
                    audio = decoded(mp3, len(reference), check=checking)
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
