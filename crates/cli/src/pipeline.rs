//! Decoding ahead, writing behind and measuring beside on their own threads, so that file
//! work and analysis overlap the DSP (which runs on the caller's thread). Channels are
//! bounded and buffers are recycled, so memory stays fixed whatever the length of the file.

use crate::error::{Failure, Result};
use crate::input::FrameReader;
use crate::output::WavSink;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::{JoinHandle, Scope, ScopedJoinHandle};

/// Frames gathered before a block is handed over.
const BATCH: usize = 32768;
/// Blocks in flight between two threads.
const DEPTH: usize = 4;

/// A [`FrameReader`] decoding on another thread.
pub struct Prefetched<const CH: usize> {
    rx: Receiver<Result<Option<Vec<[f32; CH]>>>>,
    recycle: SyncSender<Vec<[f32; CH]>>,
    current: Vec<[f32; CH]>,
    done: bool,
}

impl<const CH: usize> std::fmt::Debug for Prefetched<CH> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prefetched")
            .field("done", &self.done)
            .finish()
    }
}

impl<const CH: usize> Prefetched<CH> {
    /// Starts decoding `reader` on a new thread.
    pub fn new(mut reader: FrameReader<CH>) -> Self {
        let (tx, rx) = sync_channel::<Result<Option<Vec<[f32; CH]>>>>(DEPTH);
        let (recycle, spare) = sync_channel::<Vec<[f32; CH]>>(DEPTH + 2);
        std::thread::spawn(move || {
            let mut batch: Vec<[f32; CH]> = Vec::with_capacity(2 * BATCH);
            loop {
                let msg = match reader.next_frames() {
                    Ok(Some(block)) => {
                        batch.extend_from_slice(block);
                        if batch.len() < BATCH {
                            continue;
                        }
                        let next = spare
                            .try_recv()
                            .unwrap_or_else(|_| Vec::with_capacity(2 * BATCH));
                        Ok(Some(std::mem::replace(&mut batch, next)))
                    }
                    Ok(None) if !batch.is_empty() => Ok(Some(std::mem::take(&mut batch))),
                    Ok(None) => Ok(None),
                    Err(e) => Err(e),
                };
                let last = !matches!(msg, Ok(Some(_)));
                // A closed channel means the consumer stopped: stop too.
                if tx.send(msg).is_err() || last {
                    return;
                }
                batch.clear();
            }
        });
        Self {
            rx,
            recycle,
            current: Vec::new(),
            done: false,
        }
    }

    /// The next block of frames; `None` at the end.
    ///
    /// # Errors
    /// What the reader reported.
    pub fn next_frames(&mut self) -> Result<Option<&[[f32; CH]]>> {
        if self.done {
            return Ok(None);
        }
        let old = std::mem::take(&mut self.current);
        if old.capacity() > 0 {
            let _ = self.recycle.try_send(old);
        }
        match self.rx.recv() {
            Ok(Ok(Some(block))) => {
                self.current = block;
                Ok(Some(&self.current))
            }
            Ok(Ok(None)) => {
                self.done = true;
                Ok(None)
            }
            Ok(Err(e)) => {
                self.done = true;
                Err(e)
            }
            Err(_) => {
                self.done = true;
                Err(Failure::general("the decoding thread stopped unexpectedly"))
            }
        }
    }
}

/// A [`WavSink`] writing (quantising, dithering) on another thread.
pub struct WriteBehind<const CH: usize> {
    out: Handoff<CH>,
    handle: Option<JoinHandle<(WavSink, Option<Failure>)>>,
    frames: u64,
}

/// A batch of frames handed between threads.
type Batch<const CH: usize> = Vec<[f32; CH]>;

/// The sending side shared by [`WriteBehind`] and [`Beside`]: frames gather into a batch of
/// [`BATCH`], handed over whole through a bounded channel; the consumer sends emptied
/// buffers back for reuse.
struct Handoff<const CH: usize> {
    tx: Option<SyncSender<Vec<[f32; CH]>>>,
    spare: Receiver<Vec<[f32; CH]>>,
    pending: Vec<[f32; CH]>,
}

impl<const CH: usize> Handoff<CH> {
    /// The channel to a consumer, and the one it gives buffers back on.
    fn channels() -> (Self, Receiver<Batch<CH>>, SyncSender<Batch<CH>>) {
        let (tx, rx) = sync_channel::<Vec<[f32; CH]>>(DEPTH);
        let (give_back, spare) = sync_channel::<Vec<[f32; CH]>>(DEPTH + 2);
        let h = Self {
            tx: Some(tx),
            spare,
            pending: Vec::with_capacity(2 * BATCH),
        };
        (h, rx, give_back)
    }

    /// Queues `frames`, handing a full batch over.
    fn push(&mut self, frames: &[[f32; CH]]) {
        self.pending.extend_from_slice(frames);
        if self.pending.len() >= BATCH {
            self.flush();
        }
    }

    /// Hands over what is queued. A closed channel means the consumer stopped; its owner
    /// reports why.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(2 * BATCH));
        let block = std::mem::replace(&mut self.pending, next);
        self.pending.clear();
        if let Some(tx) = &self.tx {
            let _ = tx.send(block);
        }
    }

    /// Hands over what is queued and closes the channel (the consumer's loop ends).
    fn close(&mut self) {
        self.flush();
        drop(self.tx.take());
    }
}

impl<const CH: usize> std::fmt::Debug for WriteBehind<CH> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteBehind")
            .field("frames", &self.frames)
            .finish()
    }
}

impl<const CH: usize> WriteBehind<CH> {
    /// Starts a writer thread for `sink`.
    pub fn new(mut sink: WavSink) -> Self {
        let (out, rx, give_back) = Handoff::channels();
        let handle = std::thread::spawn(move || {
            let mut err = None;
            for block in rx {
                if err.is_none() {
                    if let Err(e) = sink.write(&block) {
                        err = Some(e);
                    }
                }
                let _ = give_back.try_send(block);
            }
            (sink, err)
        });
        Self {
            out,
            handle: Some(handle),
            frames: 0,
        }
    }

    /// Frames accepted so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Queues frames for writing.
    ///
    /// # Errors
    /// Never directly; write errors are reported by [`finish`](WriteBehind::finish).
    pub fn write(&mut self, frames: &[[f32; CH]]) -> Result<()> {
        self.out.push(frames);
        self.frames += frames.len() as u64;
        Ok(())
    }

    /// Waits for the writer thread and returns the sink with everything written.
    ///
    /// # Errors
    /// The first write error.
    pub fn into_sink(mut self) -> Result<WavSink> {
        self.out.close();
        let handle = self.handle.take().expect("joined once");
        let (sink, err) = handle
            .join()
            .map_err(|_| Failure::general("the writing thread stopped unexpectedly"))?;
        match err {
            Some(e) => Err(e),
            None => Ok(sink),
        }
    }

    /// Writes everything, completes the WAV header and syncs the file.
    ///
    /// # Errors
    /// The first write error.
    pub fn finish(self) -> Result<()> {
        self.into_sink()?.finish()
    }
}

impl<const CH: usize> Drop for WriteBehind<CH> {
    fn drop(&mut self) {
        drop(self.out.tx.take());
        if let Some(h) = self.handle.take() {
            // Wait, so that no thread writes to a file that is about to be reused or removed.
            let _ = h.join();
        }
    }
}

/// A consumer of blocks running beside the caller on a scoped thread: [`send`](Beside::send)
/// hands it a copy of each block, in order (a measurement that needs the same audio as the
/// caller's DSP, e.g. the mastering job's analyser, [`lathe::master::Split`]).
pub struct Beside<'scope, const CH: usize> {
    out: Handoff<CH>,
    handle: Option<ScopedJoinHandle<'scope, ()>>,
}

impl<'scope, const CH: usize> Beside<'scope, CH> {
    /// Starts `consume` on a thread of `scope`.
    pub fn spawn<'env, F>(scope: &'scope Scope<'scope, 'env>, mut consume: F) -> Self
    where
        F: FnMut(&[[f32; CH]]) + Send + 'scope,
    {
        let (out, rx, give_back) = Handoff::channels();
        let handle = scope.spawn(move || {
            for block in rx {
                consume(&block);
                let _ = give_back.try_send(block);
            }
        });
        Self {
            out,
            handle: Some(handle),
        }
    }

    /// Queues a copy of `frames` for the consumer.
    pub fn send(&mut self, frames: &[[f32; CH]]) {
        self.out.push(frames);
    }

    /// Hands over what is queued and waits until the consumer has seen everything.
    ///
    /// # Errors
    /// The consumer's thread panicked.
    pub fn finish(mut self) -> Result<()> {
        self.out.close();
        match self.handle.take().map(ScopedJoinHandle::join) {
            Some(Err(_)) => Err(Failure::general(
                "the measuring thread stopped unexpectedly",
            )),
            _ => Ok(()),
        }
    }
}

impl<const CH: usize> Drop for Beside<'_, CH> {
    fn drop(&mut self) {
        // Closing the channel ends the consumer; the scope joins it.
        drop(self.out.tx.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::BlockSource;
    use crate::output::{OutputFile, SampleFormat};

    struct Counter {
        n: u64,
        total: u64,
        fail_at: Option<u64>,
        buf: Vec<f32>,
    }
    impl BlockSource for Counter {
        fn channels(&self) -> usize {
            2
        }
        fn sample_rate(&self) -> u32 {
            8_000
        }
        fn next_block(&mut self) -> Result<Option<&[f32]>> {
            if self.fail_at.is_some_and(|f| self.n >= f) {
                return Err(Failure::general("boom"));
            }
            let k = (self.total - self.n).min(1_000);
            if k == 0 {
                return Ok(None);
            }
            self.buf.clear();
            for i in self.n..self.n + k {
                self.buf.extend([i as f32, -(i as f32)]);
            }
            self.n += k;
            Ok(Some(&self.buf))
        }
    }

    #[test]
    fn prefetch_delivers_everything_in_order_and_errors() {
        let src = Counter {
            n: 0,
            total: 50_123,
            fail_at: None,
            buf: Vec::new(),
        };
        let mut p = Prefetched::<2>::new(FrameReader::new(Box::new(src)));
        let mut next = 0u64;
        while let Some(b) = p.next_frames().unwrap() {
            for f in b {
                assert_eq!(f[0], next as f32);
                next += 1;
            }
        }
        assert_eq!(next, 50_123);
        assert!(p.next_frames().unwrap().is_none());

        let src = Counter {
            n: 0,
            total: 50_000,
            fail_at: Some(20_000),
            buf: Vec::new(),
        };
        let mut p = Prefetched::<2>::new(FrameReader::new(Box::new(src)));
        let mut got = 0;
        let err = loop {
            match p.next_frames() {
                Ok(Some(b)) => got += b.len(),
                Ok(None) => panic!("the error is lost"),
                Err(e) => break e,
            }
        };
        assert_eq!(err.reason, "boom");
        assert!(got <= 20_000);
        // Dropping a reader early stops its thread.
        let src = Counter {
            n: 0,
            total: u64::MAX,
            fail_at: None,
            buf: Vec::new(),
        };
        let mut p = Prefetched::<2>::new(FrameReader::new(Box::new(src)));
        p.next_frames().unwrap();
        drop(p);
    }

    #[test]
    fn beside_sees_every_frame_in_order() {
        let mut seen = Vec::new();
        std::thread::scope(|s| {
            let mut b = Beside::<2>::spawn(s, |f: &[[f32; 2]]| seen.extend_from_slice(f));
            for k in 0..1000 {
                let block: Vec<[f32; 2]> = (0..37).map(|i| [(k * 37 + i) as f32, 0.0]).collect();
                b.send(&block);
            }
            b.finish().unwrap();
        });
        assert_eq!(seen.len(), 37_000);
        assert!(seen.iter().enumerate().all(|(i, f)| f[0] == i as f32));
    }

    #[test]
    fn write_behind_writes_everything() {
        let d = crate::testdir::tempdir().unwrap();
        let path = d.path().join("w.wav");
        let out = OutputFile::new(&path).unwrap();
        let mut w = WriteBehind::<2>::new(out.wav(2, 8_000, SampleFormat::Float32, None).unwrap());
        let block: Vec<[f32; 2]> = (0..777).map(|i| [i as f32, 0.5]).collect();
        for _ in 0..100 {
            w.write(&block).unwrap();
        }
        assert_eq!(w.frames(), 77_700);
        w.finish().unwrap();
        out.commit().unwrap();
        let r = hound::WavReader::open(&path).unwrap();
        assert_eq!(r.duration(), 77_700);
    }
}
