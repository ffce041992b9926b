//! Decoding ahead on a second thread: [`Prefetch`] wraps any [`BlockSource`] and decodes (and
//! resamples) the next blocks while the caller processes the current one, so on a machine
//! with two cores a pass costs about the larger of decoding and processing instead of their
//! sum. Memory stays bounded: at most [`DEPTH`] blocks wait in the queue, and their buffers
//! are recycled.

use crate::error::Result;
use crate::input::BlockSource;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Blocks decoded ahead at most.
pub const DEPTH: usize = 4;

/// What the decoding thread sends: a block, the end, or the error that ended it.
type Message = Result<Option<Vec<f32>>>;

/// A [`BlockSource`] that decodes its inner source on a background thread (see the module
/// docs). Blocks, errors and the end arrive in the inner source's order, unchanged.
pub struct Prefetch {
    channels: usize,
    sample_rate: u32,
    blocks: Receiver<Message>,
    /// Buffers handed back to the decoding thread for reuse.
    spare: SyncSender<Vec<f32>>,
    current: Vec<f32>,
    done: bool,
    worker: Option<JoinHandle<()>>,
}

impl Prefetch {
    /// Starts decoding `source` ahead.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn new(mut source: Box<dyn BlockSource + Send>) -> Result<Self> {
        let channels = source.channels();
        let sample_rate = source.sample_rate();
        let (tx, blocks) = sync_channel::<Message>(DEPTH);
        let (spare, spares) = sync_channel::<Vec<f32>>(DEPTH + 2);
        let worker = std::thread::Builder::new()
            .name("lathe-decode".into())
            .spawn(move || loop {
                let msg = match source.next_block() {
                    Ok(Some(block)) => {
                        let mut buf = spares.try_recv().unwrap_or_default();
                        buf.clear();
                        buf.extend_from_slice(block);
                        Ok(Some(buf))
                    }
                    Ok(None) => Ok(None),
                    Err(e) => Err(e),
                };
                let last = !matches!(msg, Ok(Some(_)));
                // A closed queue means the reader was dropped: stop decoding.
                if tx.send(msg).is_err() || last {
                    return;
                }
            })
            .map_err(|e| {
                crate::error::Failure::general(format!("cannot start the decoding thread: {e}"))
            })?;
        Ok(Self {
            channels,
            sample_rate,
            blocks,
            spare,
            current: Vec::new(),
            done: false,
            worker: Some(worker),
        })
    }
}

impl BlockSource for Prefetch {
    fn channels(&self) -> usize {
        self.channels
    }

    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn next_block(&mut self) -> Result<Option<&[f32]>> {
        if self.done {
            return Ok(None);
        }
        let old = std::mem::take(&mut self.current);
        if old.capacity() > 0 {
            // Full or closed: the buffer is simply dropped.
            let _ = self.spare.try_send(old);
        }
        match self.blocks.recv() {
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
                // The thread ended without a word: it panicked.
                self.done = true;
                Err(crate::error::Failure::general(
                    "internal error: the decoding thread stopped",
                ))
            }
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        // Close the queue first, so a thread waiting to send wakes and ends.
        let (_, closed) = sync_channel(0);
        self.blocks = closed;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Failure;

    /// A source of `n` blocks of `len` samples counting up, failing after `fail_after` blocks
    /// when given.
    struct Counting {
        n: usize,
        len: usize,
        next: usize,
        fail_after: Option<usize>,
        buf: Vec<f32>,
    }

    impl BlockSource for Counting {
        fn channels(&self) -> usize {
            2
        }
        fn sample_rate(&self) -> u32 {
            44_100
        }
        fn next_block(&mut self) -> Result<Option<&[f32]>> {
            if Some(self.next) == self.fail_after {
                return Err(Failure::general("broken block"));
            }
            if self.next == self.n {
                return Ok(None);
            }
            let start = self.next * self.len;
            self.buf = (start..start + self.len).map(|v| v as f32).collect();
            self.next += 1;
            Ok(Some(&self.buf))
        }
    }

    fn counting(n: usize, fail_after: Option<usize>) -> Box<dyn BlockSource + Send> {
        Box::new(Counting {
            n,
            len: 100,
            next: 0,
            fail_after,
            buf: Vec::new(),
        })
    }

    #[test]
    fn delivers_every_block_in_order_then_the_end() {
        let mut p = Prefetch::new(counting(50, None)).unwrap();
        assert_eq!((p.channels(), p.sample_rate()), (2, 44_100));
        let mut want = 0.0f32;
        let mut blocks = 0;
        while let Some(b) = p.next_block().unwrap() {
            for &v in b {
                assert_eq!(v, want);
                want += 1.0;
            }
            blocks += 1;
        }
        assert_eq!(blocks, 50);
        assert!(p.next_block().unwrap().is_none(), "the end stays the end");
    }

    #[test]
    fn an_error_arrives_in_its_place() {
        let mut p = Prefetch::new(counting(50, Some(7))).unwrap();
        for _ in 0..7 {
            assert!(p.next_block().unwrap().is_some());
        }
        let e = p.next_block().unwrap_err();
        assert_eq!(e.reason, "broken block");
        assert!(p.next_block().unwrap().is_none());
    }

    #[test]
    fn dropping_early_stops_the_thread() {
        let mut p = Prefetch::new(counting(1_000_000, None)).unwrap();
        assert!(p.next_block().unwrap().is_some());
        // Dropping joins the thread; a hang here fails the test by timeout.
        drop(p);
    }
}
