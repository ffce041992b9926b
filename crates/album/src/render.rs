//! The streaming album mixer.

use crate::timeline::{Timeline, TrackPlacement, TrackSpec};

/// Where the renderer gets each track's audio from (files, decoders, memory).
///
/// `read` fills **every** frame of `out` with the frames of track `track` (0-based) starting at
/// source frame `source_frame` (a position in the untrimmed source: the renderer adds the start
/// trim itself), and with zeros past the end of the source. The renderer only asks for frames
/// inside the trimmed track, in increasing order, in pieces of any size; a source may rely on
/// that to stream sequentially, but must not assume any particular piece size.
pub trait TrackSource<const CH: usize> {
    /// Fills `out` with frames of track `track` from source frame `source_frame` on.
    fn read(&mut self, track: usize, source_frame: u64, out: &mut [[f32; CH]]);
}

impl<const CH: usize, S: TrackSource<CH> + ?Sized> TrackSource<CH> for &mut S {
    fn read(&mut self, track: usize, source_frame: u64, out: &mut [[f32; CH]]) {
        (**self).read(track, source_frame, out);
    }
}

/// A [`TrackSource`] over tracks already in memory: one slice of frames per track.
#[derive(Debug, Clone, Copy)]
pub struct MemorySource<'a, const CH: usize> {
    tracks: &'a [&'a [[f32; CH]]],
}

impl<'a, const CH: usize> MemorySource<'a, CH> {
    /// Tracks in album order.
    pub fn new(tracks: &'a [&'a [[f32; CH]]]) -> Self {
        Self { tracks }
    }
}

impl<const CH: usize> TrackSource<CH> for MemorySource<'_, CH> {
    fn read(&mut self, track: usize, source_frame: u64, out: &mut [[f32; CH]]) {
        let data: &[[f32; CH]] = self.tracks.get(track).copied().unwrap_or(&[]);
        let from = usize::try_from(source_frame)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let n = (data.len() - from).min(out.len());
        let (head, rest) = out.split_at_mut(n);
        head.copy_from_slice(&data[from..from + n]);
        rest.fill([0.0; CH]);
    }
}

/// Frames whose fade gains are computed together.
const ENVELOPE_CHUNK: usize = 128;

/// Frames of the second track of a crossfade mixed per pass (stack scratch).
const SCRATCH_FRAMES: usize = 256;

/// Streams the album block by block: gaps, fades, crossfades and per-track gains, pulling each
/// track's audio from a [`TrackSource`].
///
/// Output frame `t` of the album is, in `f32`,
/// `Σ_i x_i(source_start_i + t − audio_start_i) · (e_i(t − audio_start_i) as f32)` over the
/// tracks sounding at `t` (at most two, in track order), where `e_i` is
/// [`TrackPlacement::envelope`] computed in `f64`; frames where no track sounds are zero. The
/// result depends only on `t`, never on how the album is split into blocks, so the output is
/// bit-identical for any block size. Regions without fades are plain copies (and one multiply
/// when the track gain is not 0 dB); fades cost one curve evaluation per frame.
///
/// `render` never allocates, blocks or panics. Non-finite input policy: the renderer keeps no
/// signal state, so a NaN or infinity from a source appears in the output only at the frames
/// where it was read (scaled by the envelope) and nowhere else; nothing is clamped or hidden.
#[derive(Debug, Clone)]
pub struct AlbumRenderer<'a> {
    placements: &'a [TrackPlacement],
    tracks: usize,
    total_frames: u64,
    position: u64,
    /// First track whose end is after `position`.
    next: usize,
}

impl<'a> AlbumRenderer<'a> {
    /// A renderer for the album laid out by [`compute_timeline`](crate::compute_timeline) from
    /// `specs` into `placements` (pass the same slices). Starts at album frame 0.
    ///
    /// The track settings are read from `placements` (which holds everything in frames); only
    /// the first `min(specs.len(), placements.len(), timeline.tracks)` tracks are rendered.
    pub fn new(specs: &[TrackSpec], placements: &'a [TrackPlacement], timeline: Timeline) -> Self {
        let tracks = specs.len().min(placements.len()).min(timeline.tracks);
        Self {
            placements: &placements[..tracks],
            tracks,
            total_frames: timeline.total_frames,
            position: 0,
            next: 0,
        }
    }

    /// Album length in frames.
    pub fn total_frames(&self) -> u64 {
        self.total_frames
    }

    /// Album frame the next `render` call starts at.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Frames left to render.
    pub fn remaining(&self) -> u64 {
        self.total_frames - self.position
    }

    /// Moves to album frame `frame` (clamped to the album length).
    pub fn seek(&mut self, frame: u64) {
        self.position = frame.min(self.total_frames);
        self.next = self.placements.partition_point(|p| p.end <= self.position);
    }

    /// Back to the start of the album (same as a fresh renderer).
    pub fn reset(&mut self) {
        self.seek(0);
    }

    /// Renders the next `min(out.len(), remaining)` frames of the album into the start of
    /// `out` and returns how many were written; 0 once the album is complete. Frames of `out`
    /// past the returned count are left untouched.
    pub fn render<const CH: usize, S: TrackSource<CH> + ?Sized>(
        &mut self,
        source: &mut S,
        out: &mut [[f32; CH]],
    ) -> usize {
        let left = self.remaining();
        let n = if (out.len() as u64) < left {
            out.len()
        } else {
            left as usize
        };
        let out = &mut out[..n];
        let mut done = 0usize;
        while done < n {
            let t = self.position + done as u64;
            while self.next < self.tracks && self.placements[self.next].end <= t {
                self.next += 1;
            }
            // Active tracks (at most two for a valid timeline) and where the segment ends.
            let mut seg_end = t + (n - done) as u64;
            let mut active = [0usize; 2];
            let mut count = 0usize;
            for (i, p) in self.placements.iter().enumerate().skip(self.next) {
                if p.audio_start > t {
                    seg_end = seg_end.min(p.audio_start);
                    break;
                }
                if p.end > t {
                    seg_end = seg_end.min(p.end);
                    if count < 2 {
                        active[count] = i;
                        count += 1;
                    }
                }
            }
            let len = (seg_end - t) as usize;
            let seg = &mut out[done..done + len];
            match count {
                0 => seg.fill([0.0; CH]),
                1 => self.play(source, active[0], t, seg),
                _ => {
                    self.play(source, active[0], t, seg);
                    let mut scratch = [[0.0f32; CH]; SCRATCH_FRAMES];
                    let mut u = t;
                    for chunk in seg.chunks_mut(SCRATCH_FRAMES) {
                        let buf = &mut scratch[..chunk.len()];
                        self.play(source, active[1], u, buf);
                        for (o, s) in chunk.iter_mut().zip(buf.iter()) {
                            for c in 0..CH {
                                o[c] += s[c];
                            }
                        }
                        u += chunk.len() as u64;
                    }
                }
            }
            done += len;
        }
        self.position += n as u64;
        n
    }

    /// Reads track `track` for album frames `t .. t + out.len()` (all inside the track) into
    /// `out` and applies its envelope.
    fn play<const CH: usize, S: TrackSource<CH> + ?Sized>(
        &self,
        source: &mut S,
        track: usize,
        t: u64,
        out: &mut [[f32; CH]],
    ) {
        let p = &self.placements[track];
        let k0 = t - p.audio_start;
        source.read(track, p.source_start + k0, out);
        let len = p.end - p.audio_start;
        let head = p.head_frames().min(len);
        let tail_start = (len - p.tail_frames().min(len)).max(head);
        let mut j = 0usize;
        while j < out.len() {
            let k = k0 + j as u64;
            let rest = out.len() - j;
            if k >= head && k < tail_start {
                // Constant region: copy (done) and gain.
                let m = ((tail_start - k) as usize).min(rest);
                let g = p.gain as f32;
                if g != 1.0 {
                    for frame in &mut out[j..j + m] {
                        for s in frame.iter_mut() {
                            *s *= g;
                        }
                    }
                }
                j += m;
            } else {
                // Fades: gains a chunk at a time, then one multiply per sample.
                let boundary = if k < head { head } else { len };
                let m = ((boundary - k) as usize).min(rest);
                let mut gains = [0.0f64; ENVELOPE_CHUNK];
                for (c, chunk) in out[j..j + m].chunks_mut(ENVELOPE_CHUNK).enumerate() {
                    let g = &mut gains[..chunk.len()];
                    p.envelope_into(k + (c * ENVELOPE_CHUNK) as u64, g);
                    for (frame, &g) in chunk.iter_mut().zip(g.iter()) {
                        let g = g as f32;
                        for s in frame.iter_mut() {
                            *s *= g;
                        }
                    }
                }
                j += m;
            }
        }
    }
}
