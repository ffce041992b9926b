# Fixtures for codecs the tests cannot synthesise in code (MP3, Ogg Vorbis, Ogg Opus):
# 3 s of a 997 Hz sine at -20 dBFS peak, mono 22050 Hz (reads -23.0 LUFS: one channel).
import numpy as np, soundfile as sf
fs = 22050
t = np.arange(3 * fs) / fs
x = 10 ** (-20 / 20) * np.sin(2 * np.pi * 997 * t)
sf.write("sine-997hz-m20.mp3", x, fs, format="MP3", subtype="MPEG_LAYER_III", compression_level=0.9)
sf.write("sine-997hz-m20.ogg", x, fs, format="OGG", subtype="VORBIS", compression_level=0.9)
sf.write("sine-997hz-m20.opus", x[:fs // 2], 48000, format="OGG", subtype="OPUS", compression_level=0.9)
