#!/bin/sh
# Checks the Rust ports of ffmpeg's `alimiter` and pedalboard's `Limiter` in
# tests/transparency.rs against the real tools, sample by sample. By hand only: the tests do
# NOT need ffmpeg, Python or this script (CI has neither).
#
# Needs: ffmpeg (apt-get install ffmpeg), Python 3 with pedalboard, soundfile, numpy
# (pip install pedalboard soundfile numpy).
#
#   cargo test -p lathe --test transparency -- --ignored write_peer_validation_files
#   tools/peers/run.sh [dir]          # dir defaults to $LATHE_PEERS_DIR or $TMPDIR/lathe-peers
#
# For each line of <dir>/cases.txt ("name peer param release_ms") it runs the tool on
# <name>_in.wav into <name>_tool.wav, then compare.py prints how far <name>_port.wav is.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${LATHE_PEERS_DIR:-${TMPDIR:-/tmp}/lathe-peers}}
ffmpeg -version | head -n 1
python3 -c 'import pedalboard; print("pedalboard", pedalboard.__version__)'
while read -r name peer param release; do
    case $peer in
    alimiter)
        # level=disabled: no 1/limit make-up; latency=1: lookahead delay removed.
        ffmpeg -nostdin -loglevel error -y -i "$dir/${name}_in.wav" \
            -af "alimiter=limit=$param:release=$release:level=disabled:latency=1" \
            -c:a pcm_f32le "$dir/${name}_tool.wav"
        ;;
    pedalboard)
        python3 "$here/pedalboard_limiter.py" "$dir/${name}_in.wav" "$dir/${name}_tool.wav" \
            "$param" "$release"
        ;;
    *) echo "unknown peer $peer" >&2; exit 1 ;;
    esac
    python3 "$here/compare.py" "$name" "$dir/${name}_port.wav" "$dir/${name}_tool.wav"
done < "$dir/cases.txt"
