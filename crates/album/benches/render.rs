//! Album rendering throughput: a 10-track stereo album at 44.1 kHz, 10 s per track, rendered
//! in blocks of 4096 frames.
//!
//! Target: well under 1 ns per frame with plain gaps (copy and gain only: the fast path for
//! regions without fades); crossfades cost one curve evaluation per faded frame.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lathe_album::{
    compute_timeline, AlbumRenderer, FadeCurve, MemorySource, TimelineOptions, TrackPlacement,
    TrackSource, TrackSpec,
};
use std::hint::black_box;

const FS: u32 = 44_100;
const TRACKS: usize = 10;
const TRACK_FRAMES: u64 = 10 * FS as u64;
const BLOCK: usize = 4096;
const LOOP_FRAMES: usize = 16_384;

/// Tracks of `TRACK_FRAMES` frames played from one short cache-resident loop, so the bench
/// measures the renderer rather than memory bandwidth.
struct LoopSource(Vec<[f32; 2]>);

impl TrackSource<2> for LoopSource {
    fn read(&mut self, _track: usize, source_frame: u64, out: &mut [[f32; 2]]) {
        let mut pos = (source_frame % LOOP_FRAMES as u64) as usize;
        let mut out = out;
        while !out.is_empty() {
            let n = (LOOP_FRAMES - pos).min(out.len());
            let (head, rest) = out.split_at_mut(n);
            head.copy_from_slice(&self.0[pos..pos + n]);
            out = rest;
            pos = 0;
        }
    }
}

fn loop_audio() -> Vec<[f32; 2]> {
    let noise = lathe_testkit::signals::white_noise(0.5, 7, 2 * LOOP_FRAMES);
    noise.chunks(2).map(|c| [c[0], c[1]]).collect()
}

fn album(crossfades: bool) -> (Vec<TrackSpec>, Vec<TrackPlacement>, lathe_album::Timeline) {
    let specs: Vec<TrackSpec> = (0..TRACKS)
        .map(|i| TrackSpec {
            frames: TRACK_FRAMES,
            gap_before_s: if crossfades || i == 0 { 0.0 } else { 2.0 },
            crossfade_s: if crossfades && i + 1 < TRACKS {
                3.0
            } else {
                0.0
            },
            crossfade_curve: FadeCurve::EqualPower,
            gain_db: -1.5 + 0.25 * i as f64,
            ..TrackSpec::default()
        })
        .collect();
    let mut placements = vec![TrackPlacement::default(); TRACKS];
    let timeline =
        compute_timeline(&specs, &TimelineOptions::cd(), &mut placements).expect("valid album");
    (specs, placements, timeline)
}

fn render_all<S: TrackSource<2>>(
    specs: &[TrackSpec],
    placements: &[TrackPlacement],
    timeline: lathe_album::Timeline,
    source: &mut S,
    block: &mut [[f32; 2]],
) {
    let mut renderer = AlbumRenderer::new(specs, placements, timeline);
    loop {
        let n = renderer.render(source, block);
        if n == 0 {
            break;
        }
        black_box(&block[..n]);
    }
}

fn bench(c: &mut Criterion) {
    let audio = loop_audio();
    let mut group = c.benchmark_group("album/render 10-track stereo 44.1k");
    for (name, crossfades) in [("plain gaps", false), ("crossfades 3 s", true)] {
        let (specs, placements, timeline) = album(crossfades);
        let mut source = LoopSource(audio.clone());
        let mut block = vec![[0.0f32; 2]; BLOCK];
        group.throughput(Throughput::Elements(timeline.total_frames));
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| render_all(&specs, &placements, timeline, &mut source, &mut block))
        });
    }
    // The same plain-gap album from full-length tracks in memory (35 MB: bandwidth-bound).
    let (specs, placements, timeline) = album(false);
    let full: Vec<Vec<[f32; 2]>> = (0..TRACKS)
        .map(|_| {
            (0..TRACK_FRAMES as usize)
                .map(|i| audio[i % LOOP_FRAMES])
                .collect()
        })
        .collect();
    let refs: Vec<&[[f32; 2]]> = full.iter().map(Vec::as_slice).collect();
    let mut source = MemorySource::new(&refs);
    let mut block = vec![[0.0f32; 2]; BLOCK];
    group.throughput(Throughput::Elements(timeline.total_frames));
    group.bench_function(
        BenchmarkId::from_parameter("plain gaps, memory source"),
        |b| b.iter(|| render_all(&specs, &placements, timeline, &mut source, &mut block)),
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
