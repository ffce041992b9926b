//! PNG plots of a file's level and loudness over time (`plotters`, no font files).
//!
//! A [`Recorder`] collects, per 100 ms hop, the sample peak and the short-term loudness
//! (read from the meter at the hop boundary); it keeps at most [`MAX_POINTS`] points by merging
//! neighbours, so memory does not grow with the file. [`render`] draws one or more recordings
//! (e.g. before and after mastering) into a PNG: a peak envelope on top, short-term loudness
//! below, the target and ceiling as dashed lines. Labels use the built-in bitmap font
//! ([`crate::font`]), so no system font or library is needed.

use crate::error::{Failure, Result};
use crate::font;
use crate::output::OutputFile;
use plotters::prelude::*;
use std::path::Path;

/// Hop between recorded points, in seconds.
pub const HOP_S: f64 = 0.1;
/// Most points a recording keeps.
pub const MAX_POINTS: usize = 2_048;

/// One recorded point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Largest absolute sample over the point's span (linear full scale).
    pub peak: f32,
    /// Short-term loudness at the end of the span, LUFS (`-inf` when silent).
    pub short_term_lufs: f64,
}

/// Level and loudness over time, in bounded memory (see the module docs).
#[derive(Debug, Clone)]
pub struct Recorder {
    hop_frames: usize,
    sample_rate: f64,
    in_hop: usize,
    hop_peak: f32,
    stride: usize,
    merged: usize,
    pending: Option<Point>,
    points: Vec<Point>,
    frames: u64,
}

impl Recorder {
    /// A recorder for audio at `sample_rate` Hz.
    pub fn new(sample_rate: f64) -> Self {
        Self {
            hop_frames: ((sample_rate * HOP_S).round() as usize).max(1),
            sample_rate,
            in_hop: 0,
            hop_peak: 0.0,
            stride: 1,
            merged: 0,
            pending: None,
            points: Vec::new(),
            frames: 0,
        }
    }

    /// Frames until the current hop ends.
    pub fn frames_to_hop(&self) -> usize {
        self.hop_frames - self.in_hop
    }

    /// Adds frames (at most [`frames_to_hop`](Recorder::frames_to_hop) of them); true when
    /// the hop is complete and [`end_hop`](Recorder::end_hop) must be called.
    pub fn add<const CH: usize>(&mut self, frames: &[[f32; CH]]) -> bool {
        debug_assert!(frames.len() <= self.frames_to_hop());
        for f in frames {
            for &s in f {
                if s.abs() > self.hop_peak {
                    self.hop_peak = s.abs();
                }
            }
        }
        self.in_hop += frames.len();
        self.frames += frames.len() as u64;
        self.in_hop >= self.hop_frames
    }

    /// Closes the current hop with the meter's short-term loudness at its end.
    pub fn end_hop(&mut self, short_term_lufs: f64) {
        let p = Point {
            peak: self.hop_peak,
            short_term_lufs,
        };
        self.hop_peak = 0.0;
        self.in_hop = 0;
        self.merge(p);
    }

    fn merge(&mut self, p: Point) {
        let q = match self.pending.take() {
            Some(a) => Point {
                peak: a.peak.max(p.peak),
                short_term_lufs: p.short_term_lufs,
            },
            None => p,
        };
        self.merged += 1;
        if self.merged < self.stride {
            self.pending = Some(q);
            return;
        }
        self.merged = 0;
        self.points.push(q);
        if self.points.len() >= MAX_POINTS {
            // Halve the resolution: merge neighbours.
            let old = std::mem::take(&mut self.points);
            self.points = old
                .chunks(2)
                .map(|c| Point {
                    peak: c.iter().fold(0.0f32, |m, p| m.max(p.peak)),
                    short_term_lufs: c[c.len() - 1].short_term_lufs,
                })
                .collect();
            self.stride *= 2;
        }
    }

    /// Points so far (each spans [`seconds_per_point`](Recorder::seconds_per_point)).
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// Seconds each point spans.
    pub fn seconds_per_point(&self) -> f64 {
        self.stride as f64 * self.hop_frames as f64 / self.sample_rate
    }

    /// Seconds recorded.
    pub fn duration_s(&self) -> f64 {
        self.frames as f64 / self.sample_rate
    }
}

/// One recording in a plot.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// Legend text.
    pub name: &'a str,
    /// Line colour.
    pub color: RGBColor,
    /// The recording.
    pub recorder: &'a Recorder,
    /// Integrated loudness, drawn as a thin line, LUFS.
    pub integrated_lufs: Option<f64>,
}

/// What to draw.
#[derive(Debug, Clone)]
pub struct Plot<'a> {
    /// Title line.
    pub title: String,
    /// Recordings, drawn in order.
    pub series: Vec<Series<'a>>,
    /// Target loudness line, LUFS.
    pub target_lufs: Option<f64>,
    /// True-peak ceiling line, dBTP (drawn on the peak panel).
    pub ceiling_dbtp: Option<f64>,
}

/// Colours for the first and second series.
pub const BEFORE: RGBColor = RGBColor(230, 126, 34);
/// Colour of the second series (after processing).
pub const AFTER: RGBColor = RGBColor(41, 98, 255);

const W: u32 = 1200;
const H: u32 = 760;
const LEFT: i32 = 80;
const RIGHT: i32 = W as i32 - 40;
const PEAK_TOP: i32 = 96;
const PEAK_BOTTOM: i32 = 330;
const LOUD_TOP: i32 = 392;
const LOUD_BOTTOM: i32 = 700;
const GRID: RGBColor = RGBColor(225, 225, 225);
const INK: RGBColor = RGBColor(40, 40, 40);

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// Fills the `w` x `h` pixels from `(x, y)` (plotters' filled rectangles exclude their
/// bottom-right corner).
fn fill(area: &Area<'_>, x: i32, y: i32, w: i32, h: i32, style: ShapeStyle) -> Result<()> {
    area.draw(&Rectangle::new([(x, y), (x + w, y + h)], style))
        .map_err(draw_err)
}

fn text(area: &Area<'_>, s: &str, x: i32, y: i32, scale: u32, color: RGBColor) -> Result<()> {
    for (rx, ry, w, h) in font::rectangles(s, scale) {
        fill(
            area,
            x + rx as i32,
            y + ry as i32,
            w as i32,
            h as i32,
            color.filled(),
        )?;
    }
    Ok(())
}

fn draw_err<E: std::fmt::Debug>(e: E) -> Failure {
    Failure::general(format!("plot: {e:?}"))
}

fn hline(area: &Area<'_>, y: i32, color: RGBColor, dashed: bool) -> Result<()> {
    if dashed {
        let mut x = LEFT;
        while x < RIGHT {
            area.draw(&PathElement::new(
                vec![(x, y), ((x + 8).min(RIGHT), y)],
                color.stroke_width(2),
            ))
            .map_err(draw_err)?;
            x += 14;
        }
        Ok(())
    } else {
        area.draw(&PathElement::new(vec![(LEFT, y), (RIGHT, y)], color))
            .map_err(draw_err)
    }
}

/// "m:ss" or "h:mm:ss".
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// A tick step (seconds) giving at most about ten ticks over `duration`.
pub fn time_step(duration: f64) -> f64 {
    const STEPS: [f64; 14] = [
        0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
    ];
    STEPS
        .iter()
        .copied()
        .find(|s| duration / s <= 10.0)
        .unwrap_or(7200.0)
}

/// Draws `plot` into a PNG at `path` (written beside it first, then renamed).
///
/// # Errors
/// Drawing or file errors.
pub fn render(path: &Path, plot: &Plot<'_>) -> Result<()> {
    let out = OutputFile::with_suffix(path, ".png")?;
    {
        let area = BitMapBackend::new(out.temp_path(), (W, H)).into_drawing_area();
        draw(&area, plot).map_err(|e| e.on(path))?;
        area.present()
            .map_err(|e| Failure::file(path, format!("cannot write the PNG: {e:?}")))?;
    }
    out.commit()
}

fn draw(area: &Area<'_>, plot: &Plot<'_>) -> Result<()> {
    area.fill(&WHITE).map_err(draw_err)?;
    text(area, &plot.title, LEFT, 14, 2, INK)?;
    // Legend.
    let mut x = LEFT;
    for s in &plot.series {
        fill(area, x, 46, 14, 14, s.color.filled())?;
        let label = match s.integrated_lufs {
            Some(l) if l.is_finite() => format!("{}  {l:.1} LUFS", s.name),
            _ => s.name.to_string(),
        };
        text(area, &label, x + 20, 46, 2, INK)?;
        x += 20 + font::text_width(&label, 2) as i32 + 36;
    }
    if let Some(t) = plot.target_lufs {
        let label = format!("TARGET {t:.1} LUFS");
        text(area, &label, x, 46, 2, RGBColor(0, 150, 80))?;
    }
    let duration = plot
        .series
        .iter()
        .map(|s| s.recorder.duration_s())
        .fold(0.0f64, f64::max)
        .max(HOP_S);
    let xpos = |t: f64| LEFT + ((t / duration) * f64::from(RIGHT - LEFT)).round() as i32;

    // Peak panel (linear, symmetric).
    text(area, "PEAK", LEFT, PEAK_TOP - 22, 2, INK)?;
    let mid = (PEAK_TOP + PEAK_BOTTOM) / 2;
    let half = f64::from(PEAK_BOTTOM - PEAK_TOP) / 2.0;
    for (v, label) in [
        (1.0, "+1"),
        (0.5, "+.5"),
        (0.0, "0"),
        (-0.5, "-.5"),
        (-1.0, "-1"),
    ] {
        let y = mid - (v * half).round() as i32;
        hline(area, y, GRID, false)?;
        let w = font::text_width(label, 2) as i32;
        text(area, label, LEFT - 8 - w, y - 7, 2, INK)?;
    }
    for s in &plot.series {
        let pts = s.recorder.points();
        let dt = s.recorder.seconds_per_point();
        let mut cols: Vec<f32> = vec![0.0; (RIGHT - LEFT + 1) as usize];
        for (i, p) in pts.iter().enumerate() {
            let a = xpos(i as f64 * dt);
            let b = xpos((i + 1) as f64 * dt).max(a);
            for x in a..=b.min(RIGHT) {
                let c = &mut cols[(x - LEFT) as usize];
                *c = c.max(p.peak.min(1.5));
            }
        }
        let style = s.color.mix(0.45).filled();
        for (i, &p) in cols.iter().enumerate() {
            if p > 0.0 {
                let x = LEFT + i as i32;
                let h = (f64::from(p) * half).round() as i32;
                let top = (mid - h).max(PEAK_TOP - 8);
                let bottom = (mid + h).min(PEAK_BOTTOM + 8);
                fill(area, x, top, 1, bottom - top + 1, style)?;
            }
        }
    }

    // The ceiling over the envelopes.
    if let Some(c) = plot.ceiling_dbtp {
        let g = 10f64.powf(c / 20.0);
        for y in [
            mid - (g * half).round() as i32,
            mid + (g * half).round() as i32,
        ] {
            hline(area, y, RGBColor(200, 40, 40), true)?;
        }
    }

    // Loudness panel.
    text(
        area,
        "SHORT-TERM LOUDNESS (LUFS)",
        LEFT,
        LOUD_TOP - 22,
        2,
        INK,
    )?;
    let mut lo = plot.target_lufs.unwrap_or(-23.0);
    for s in &plot.series {
        for p in s.recorder.points() {
            if p.short_term_lufs.is_finite() {
                lo = lo.min(p.short_term_lufs);
            }
        }
    }
    let step = 6.0;
    let lo = ((lo - 3.0) / step).floor().max(-72.0 / step) * step;
    let hi = 0.0;
    let ypos = |l: f64| {
        let f = ((l - lo) / (hi - lo)).clamp(0.0, 1.0);
        LOUD_BOTTOM - (f * f64::from(LOUD_BOTTOM - LOUD_TOP)).round() as i32
    };
    let mut l = hi;
    while l >= lo - 1e-9 {
        let y = ypos(l);
        hline(area, y, GRID, false)?;
        let label = format!("{l:.0}");
        let w = font::text_width(&label, 2) as i32;
        text(area, &label, LEFT - 8 - w, y - 7, 2, INK)?;
        l -= step;
    }
    if let Some(t) = plot.target_lufs {
        hline(area, ypos(t), RGBColor(0, 150, 80), true)?;
    }
    for s in &plot.series {
        if let Some(i) = s.integrated_lufs.filter(|v| v.is_finite()) {
            area.draw(&PathElement::new(
                vec![(LEFT, ypos(i)), (RIGHT, ypos(i))],
                s.color.mix(0.5),
            ))
            .map_err(draw_err)?;
        }
        let dt = s.recorder.seconds_per_point();
        let mut run: Vec<(i32, i32)> = Vec::new();
        for (i, p) in s.recorder.points().iter().enumerate() {
            // A short-term value needs 3 s of audio behind it.
            let t = (i + 1) as f64 * dt;
            if p.short_term_lufs.is_finite() && t >= 3.0 {
                run.push((xpos(t), ypos(p.short_term_lufs)));
            } else if !run.is_empty() {
                area.draw(&PathElement::new(
                    std::mem::take(&mut run),
                    s.color.stroke_width(2),
                ))
                .map_err(draw_err)?;
            }
        }
        if !run.is_empty() {
            area.draw(&PathElement::new(run, s.color.stroke_width(2)))
                .map_err(draw_err)?;
        }
    }

    // Time axis.
    let step = time_step(duration);
    let mut t = 0.0;
    while t <= duration + 1e-9 {
        let x = xpos(t);
        for (top, bottom) in [(PEAK_TOP, PEAK_BOTTOM), (LOUD_TOP, LOUD_BOTTOM)] {
            area.draw(&PathElement::new(vec![(x, top), (x, bottom)], GRID))
                .map_err(draw_err)?;
        }
        let label = clock(t);
        let w = font::text_width(&label, 2) as i32;
        let lx = (x - w / 2).clamp(0, W as i32 - w);
        text(area, &label, lx, LOUD_BOTTOM + 12, 2, INK)?;
        t += step;
    }
    for (top, bottom) in [(PEAK_TOP, PEAK_BOTTOM), (LOUD_TOP, LOUD_BOTTOM)] {
        area.draw(&Rectangle::new([(LEFT, top), (RIGHT, bottom)], INK))
            .map_err(draw_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_is_bounded_and_keeps_peaks() {
        let fs = 1_000.0;
        let mut r = Recorder::new(fs);
        let total = 100 * MAX_POINTS; // 100 frames per hop: 100 * MAX_POINTS hops
        let mut loud_at = None;
        let mut fed = 0usize;
        let mut hops = 0usize;
        while fed < total * 100 {
            let n = r.frames_to_hop().min(37);
            let x = if (fed..fed + n).contains(&123_456) {
                0.9
            } else {
                0.1
            };
            if x > 0.5 {
                loud_at = Some(fed);
            }
            let block = vec![[x, -x]; n];
            if r.add(&block[..]) {
                r.end_hop(-20.0);
                hops += 1;
            }
            fed += n;
        }
        assert_eq!(hops, total);
        assert!(r.points().len() < MAX_POINTS);
        assert!(r.points().len() >= MAX_POINTS / 2);
        assert!((r.duration_s() - fed as f64 / fs).abs() < 1e-9);
        let spp = r.seconds_per_point();
        assert!((r.points().len() as f64 * spp - r.duration_s()).abs() <= spp);
        // The one loud sample is still visible in the right point.
        let t = loud_at.unwrap() as f64 / fs;
        let i = (t / spp) as usize;
        assert_eq!(r.points()[i].peak, 0.9);
        assert_eq!(r.points().iter().filter(|p| p.peak > 0.5).count(), 1);
    }

    #[test]
    fn clock_and_steps() {
        assert_eq!(clock(0.0), "0:00");
        assert_eq!(clock(65.4), "1:05");
        assert_eq!(clock(3_725.0), "1:02:05");
        assert_eq!(time_step(4.0), 0.5);
        assert_eq!(time_step(25.0), 5.0);
        assert_eq!(time_step(3_600.0), 600.0);
    }

    #[test]
    fn text_lights_exactly_the_glyph_pixels() {
        let (w, h) = (200u32, 40u32);
        let mut buf = vec![255u8; (w * h * 3) as usize];
        {
            let area = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            text(&area, "-14.0 LU", 3, 5, 2, INK).unwrap();
            area.present().unwrap();
        }
        let dark = buf.chunks(3).filter(|p| p[0] < 128).count() as u32;
        let want: u32 = "-14.0 LU"
            .chars()
            .map(|c| font::glyph(c).iter().map(|r| r.count_ones()).sum::<u32>())
            .sum();
        assert_eq!(dark, want * 4);
    }

    #[test]
    fn renders_a_png() {
        let d = crate::testdir::tempdir().unwrap();
        let fs = 8_000.0;
        let mut a = Recorder::new(fs);
        let mut b = Recorder::new(fs);
        for k in 0..200 {
            let x = 0.3 + 0.2 * ((k as f32) * 0.1).sin();
            let block = vec![[x]; 800];
            assert!(a.add(&block[..]));
            a.end_hop(-20.0 + 5.0 * f64::from(x));
            let block = vec![[x * 2.0]; 800];
            assert!(b.add(&block[..]));
            b.end_hop(if k < 5 {
                f64::NEG_INFINITY
            } else {
                -14.0 + f64::from(x)
            });
        }
        let path = d.path().join("p.png");
        let plot = Plot {
            title: "demo.wav: before / after".into(),
            series: vec![
                Series {
                    name: "BEFORE",
                    color: BEFORE,
                    recorder: &a,
                    integrated_lufs: Some(-19.0),
                },
                Series {
                    name: "AFTER",
                    color: AFTER,
                    recorder: &b,
                    integrated_lufs: Some(-14.0),
                },
            ],
            target_lufs: Some(-14.0),
            ceiling_dbtp: Some(-1.0),
        };
        render(&path, &plot).unwrap();
        if let Ok(keep) = std::env::var("LATHE_KEEP_PLOT") {
            std::fs::copy(&path, keep).unwrap();
        }
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left: {left:?}");
    }
}
