"""Compares a port's output with the real tool's, sample by sample, for checking the Rust ports
in tests/transparency.rs (see run.sh). By hand only: the tests do NOT need Python or this script.

usage: compare.py name port.wav tool.wav
Prints the largest absolute difference, the difference energy in dB re the tool's output
energy, the share of samples that are bit-identical, and the best alignment lag (must be 0).
"""
import sys

import numpy as np
import soundfile as sf

name, port_path, tool_path = sys.argv[1:4]
port, fs_p = sf.read(port_path, dtype="float32", always_2d=True)
tool, fs_t = sf.read(tool_path, dtype="float32", always_2d=True)
assert fs_p == fs_t, (fs_p, fs_t)
if port.shape != tool.shape:
    print(f"{name}: shapes differ, port {port.shape} tool {tool.shape}")
    n = min(len(port), len(tool))
    port, tool = port[:n], tool[:n]
p, t = port.astype(np.float64), tool.astype(np.float64)
d = p - t
max_abs = np.max(np.abs(d))
err = np.sum(d * d)
resid = f"{10 * np.log10(err / np.sum(t * t)):.1f} dB re tool output" if err > 0 else "none"
exact = np.mean(port == tool)
seg = slice(48000, 48000 + 96000)
lags = range(-300, 301)
best = max(lags, key=lambda k: np.dot(np.roll(p[:, 0], k)[seg], t[seg, 0]))
print(
    f"{name}: {len(t)} frames, max |port - tool| = {max_abs:.3g}, "
    f"difference energy {resid}, bit-identical {100 * exact:.2f} %, "
    f"lag {best}, tool peak {np.max(np.abs(t)):.6f}"
)
