"""Runs pedalboard.Limiter on a WAV file, for checking the Rust port of it in
tests/transparency.rs (see run.sh). By hand only: the tests do NOT need Python or this script.

usage: pedalboard_limiter.py in.wav out.wav threshold_db release_ms
"""
import sys

import numpy as np
import pedalboard
import soundfile as sf

src, dst, threshold_db, release_ms = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
x, fs = sf.read(src, dtype="float32", always_2d=True)
limiter = pedalboard.Limiter(threshold_db=threshold_db, release_ms=release_ms)
# pedalboard takes (channels, frames); float32 in, float32 out.
y = limiter.process(np.ascontiguousarray(x.T), fs)
sf.write(dst, y.T, fs, subtype="FLOAT")
