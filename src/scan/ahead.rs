//! Reading compressed phases ahead of the phase being analysed.
//!
//! [`super::read_order`] splits the inputs into phases analysed strictly one after another, which
//! is what makes de-duplication, line numbers and every report deterministic. A gzip stream
//! decodes on one thread only, so a rotated `.gz` family read phase by phase was bounded by one
//! core's inflate speed while the other cores waited. Here the producers of the next compressed
//! phases start early, each into its own bounded queue; the analysis still takes the phases in
//! order, a phase's chunks only once the phase before it is done, so nothing it computes can tell
//! the difference.
//!
//! ```text
//! phase k   (analysed)  producer --hand-over (a queue of threads*2 if compressed)--> workers
//! phase k+1 (ahead)     producer --queue (bounded)--> waits
//! ...       at most `threads` phases in flight, so at most that many producers and open files
//! ```
//!
//! What runs ahead is bounded: at most [`READ_AHEAD_BYTES`] of chunks wait in the queues of the
//! phases ahead, all together (plus the chunk each producer is filling; chunks end at a newline,
//! so a little more), and a producer whose queue is full blocks. No more phases run ahead than
//! that budget gives a few chunks each. Plain files are not read ahead: reading them is not what
//! a scan waits for, and reading them early would only hold memory.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::{Scope, ScopedJoinHandle};

use crate::source::{
    Chunk, ChunkSink, Input, InputInfo, MapSlot, ReadOptions, SourceError, compressed_file,
    read_input,
};

/// Decompressed bytes that the queues of all phases read ahead may hold together.
pub(super) const READ_AHEAD_BYTES: usize = 64 << 20;

/// Most chunks one queue holds, whatever the chunk size (a queue allocates its slots up front).
const MAX_QUEUED_CHUNKS: usize = 1024;

/// Fewest chunks worth queueing for a phase ahead: more phases ahead with less each would only
/// spread the same bytes thinner (what a phase gains is what it has decoded when it comes).
const MIN_QUEUED_CHUNKS: usize = 4;

/// What reading one input established.
pub(super) type Read = (Option<InputInfo>, Option<SourceError>);

/// What reading a phase established, per input position.
pub(super) type Produced = Vec<(usize, Read)>;

/// What every phase's producers read from.
pub(super) struct Sources<'m> {
    pub inputs: &'m [Input],
    pub read: &'m ReadOptions,
    /// Mapped inputs' maps, which must outlive their chunks.
    pub maps: &'m [MapSlot],
    /// Emptied chunk buffers, for reuse.
    pub pool: &'m Mutex<Vec<Vec<u8>>>,
    /// Worker threads: also the most phases in flight at once.
    pub threads: usize,
    /// Bytes of chunks the phases ahead may queue together ([`READ_AHEAD_BYTES`]).
    pub ahead_bytes: usize,
}

/// One phase being read: its queue of chunks and the threads filling it.
pub(super) struct Feed<'s, 'm> {
    /// The phase's chunks, in the order its producers send them.
    pub chunks: Receiver<Chunk<'m>>,
    /// The threads reading the phase's inputs.
    pub producers: Producers<'s>,
}

/// The producer threads of one phase.
pub(super) struct Producers<'s>(Vec<ScopedJoinHandle<'s, Produced>>);

impl Producers<'_> {
    /// Waits for the producers to end (the analysis has drained their queue, or dropped it) and
    /// returns what reading each input established.
    pub fn join(self) -> Produced {
        self.0
            .into_iter()
            .flat_map(|h| h.join().expect("producer thread panicked"))
            .collect()
    }
}

/// Hands out the phases in order, starting the compressed ones ahead.
pub(super) struct ReadAhead<'s, 'm> {
    scope: &'s Scope<'s, 'm>,
    src: &'m Sources<'m>,
    phases: &'m [Vec<usize>],
    /// Whether a phase may be read ahead (every input compressed), once looked at.
    compressed: Vec<Option<bool>>,
    /// The phases from `next` on that are in the window: started, or not yet.
    window: VecDeque<Option<Feed<'s, 'm>>>,
    /// The next phase to hand out.
    next: usize,
}

impl<'s, 'm> ReadAhead<'s, 'm> {
    pub fn new(scope: &'s Scope<'s, 'm>, src: &'m Sources<'m>, phases: &'m [Vec<usize>]) -> Self {
        ReadAhead {
            scope,
            src,
            phases,
            compressed: vec![None; phases.len()],
            window: VecDeque::new(),
            next: 0,
        }
    }

    /// The next phase's feed, after starting the compressed phases within the thread count of
    /// it. `None` after the last phase.
    pub fn next_phase(&mut self) -> Option<Feed<'s, 'm>> {
        let k = self.next;
        if k >= self.phases.len() {
            return None;
        }
        let depth = self.depth();
        let end = (k + depth).min(self.phases.len());
        while self.window.len() < end - k {
            self.window.push_back(None);
        }
        if self.window[0].is_none() {
            let capacity = self.analysed_capacity(k);
            self.window[0] = Some(self.start(k, capacity));
        }
        let ahead = self.ahead_capacity(depth);
        for j in 1..self.window.len() {
            if self.window[j].is_none() && self.may_read_ahead(k + j) {
                self.window[j] = Some(self.start(k + j, ahead));
            }
        }
        self.next += 1;
        self.window.pop_front().flatten()
    }

    /// The target size of a chunk.
    fn chunk_bytes(&self) -> usize {
        let read = self.src.read;
        read.chunk_size.min(read.max_line_bytes).max(1)
    }

    /// Phases in flight at most, the one analysed included: the thread count, and no more
    /// phases ahead than the read-ahead bytes give [`MIN_QUEUED_CHUNKS`] each (one at least).
    fn depth(&self) -> usize {
        let worth = self.src.ahead_bytes / self.chunk_bytes() / MIN_QUEUED_CHUNKS;
        1 + (self.src.threads.max(1) - 1).min(worth.max(1))
    }

    /// Chunks the analysed phase may queue: none for plain files, which are read far faster
    /// than they are analysed (a producer hands each chunk over when a worker asks for it, and
    /// fills the next meanwhile; every queued chunk would be a 4 MiB buffer held through the
    /// scan); two per worker for compressed ones, whose decoding runs unevenly.
    fn analysed_capacity(&mut self, phase: usize) -> usize {
        if self.may_read_ahead(phase) {
            self.src.threads.max(1) * 2
        } else {
            0
        }
    }

    /// Chunks a phase read ahead may queue: its share of the read-ahead bytes (one at least).
    fn ahead_capacity(&self, depth: usize) -> usize {
        let share = self.src.ahead_bytes / self.chunk_bytes() / depth.saturating_sub(1).max(1);
        share.clamp(1, MAX_QUEUED_CHUNKS)
    }

    fn may_read_ahead(&mut self, phase: usize) -> bool {
        let inputs = self.src.inputs;
        *self.compressed[phase].get_or_insert_with(|| {
            let positions = &self.phases[phase];
            !positions.is_empty() && positions.iter().all(|&i| compressed_file(&inputs[i]))
        })
    }

    /// Starts the producers of `phase` (one per input, up to the thread count), sending into a
    /// queue of `capacity` chunks (none: each send waits for a worker to take the chunk).
    fn start(&self, phase: usize, capacity: usize) -> Feed<'s, 'm> {
        let src = self.src;
        let phase: &'m [usize] = &self.phases[phase];
        let (tx, rx) = mpsc::sync_channel(capacity);
        let next = Arc::new(AtomicUsize::new(0));
        let producers = src.threads.min(phase.len()).max(1);
        let producers = (0..producers)
            .map(|_| {
                let sink = ChunkSink::new(tx.clone(), src.pool);
                let next = Arc::clone(&next);
                self.scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&i) = phase.get(n) else { break };
                        let input = &src.inputs[i];
                        let read =
                            read_input(input, src.read, src.inputs.len(), &src.maps[i], &sink);
                        done.push((i, read));
                    }
                    done
                })
            })
            .collect();
        Feed {
            chunks: rx,
            producers: Producers(producers),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::source::InputPath;

    fn lines(file: usize, n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| format!("{{\"file\":{file},\"line\":{i}}}\n").into_bytes())
            .collect()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    /// Four `.gz` phases, the third truncated, then a plain one; queues of a few 64-byte chunks,
    /// so producers ahead fill their queue and block. Each phase's chunks come whole, in order,
    /// only from its own input; the truncated one keeps what it decoded and says so; the plain
    /// one is not started ahead; never more phases in flight than threads.
    #[test]
    fn phases_come_in_order_whole_while_later_ones_read_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let mut inputs = Vec::new();
        let mut texts = Vec::new();
        for f in 0..5 {
            let text = lines(f, 400 + 50 * f);
            let name = format!("audit.log.{}.gz", 5 - f);
            let bytes = match f {
                2 => {
                    let gz = gzip(&text);
                    gz[..gz.len() / 2].to_vec()
                }
                4 => text.clone(),
                _ => gzip(&text),
            };
            let path = dir.path().join(&name);
            std::fs::write(&path, bytes).unwrap();
            inputs.push(Input {
                index: f as u32,
                display: name,
                path: InputPath::File(path),
                family: "audit.log".into(),
                resume: Default::default(),
            });
            texts.push(text);
        }
        let read = ReadOptions {
            chunk_size: 64,
            ..ReadOptions::default()
        };
        let maps: Vec<MapSlot> = inputs.iter().map(|_| MapSlot::new()).collect();
        let pool = Mutex::new(Vec::new());
        let src = Sources {
            inputs: &inputs,
            read: &read,
            maps: &maps,
            pool: &pool,
            threads: 3,
            // Two phases ahead, 4 chunks each: their producers fill their queues and wait.
            ahead_bytes: 64 * MIN_QUEUED_CHUNKS * 2,
        };
        let phases: Vec<Vec<usize>> = (0..inputs.len()).map(|i| vec![i]).collect();
        std::thread::scope(|scope| {
            let mut feeds = ReadAhead::new(scope, &src, &phases);
            for (k, text) in texts.iter().enumerate() {
                let Feed { chunks, producers } = feeds.next_phase().expect("a phase");
                let started: Vec<bool> = feeds.window.iter().map(Option::is_some).collect();
                assert!(started.len() < src.threads, "{k}: {started:?}");
                if k == 0 {
                    assert_eq!(started, [true, true], "phases 1 and 2 run ahead");
                    // Let the phases ahead fill their queues and block.
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                if k == 2 {
                    assert_eq!(started, [true, false], "the plain phase is not read ahead");
                }
                let mut got = Vec::new();
                for (n, c) in chunks.iter().enumerate() {
                    assert_eq!((c.file, c.index), (k as u32, n as u32));
                    assert_eq!(c.offset, got.len() as u64);
                    got.extend_from_slice(c.data.bytes());
                }
                let done = producers.join();
                assert_eq!(done.len(), 1);
                let (i, (info, err)) = &done[0];
                assert_eq!(*i, k);
                let info = info.as_ref().expect("opened");
                assert_eq!(info.bytes, got.len() as u64);
                if k == 2 {
                    assert!(
                        matches!(err, Some(SourceError::CompressedTruncated { .. })),
                        "{err:?}"
                    );
                    assert!(!got.is_empty() && got.len() < text.len());
                    assert!(text.starts_with(&got));
                } else {
                    assert!(err.is_none(), "{k}: {err:?}");
                    assert_eq!(&got, text, "phase {k}");
                }
            }
            assert!(feeds.next_phase().is_none());
        });
    }

    /// At any thread count and chunk size: no more phases in flight than threads, and the
    /// queues ahead hold no more than the budget (or one chunk, when a chunk is larger).
    #[test]
    fn read_ahead_is_bounded_at_any_thread_count_and_chunk_size() {
        let pool = Mutex::new(Vec::new());
        for threads in [1, 2, 3, 4, 8, 64, 512] {
            for chunk_size in [1, 64, 4 << 10, 4 << 20, 1 << 30] {
                let read = ReadOptions {
                    chunk_size,
                    ..ReadOptions::default()
                };
                let src = Sources {
                    inputs: &[],
                    read: &read,
                    maps: &[],
                    pool: &pool,
                    threads,
                    ahead_bytes: READ_AHEAD_BYTES,
                };
                std::thread::scope(|scope| {
                    let feeds = ReadAhead::new(scope, &src, &[]);
                    let depth = feeds.depth();
                    let queued = (depth - 1) * feeds.ahead_capacity(depth) * chunk_size;
                    assert!(
                        depth >= 1 && depth <= threads,
                        "{threads} {chunk_size}: {depth}"
                    );
                    assert_eq!(
                        depth > 1,
                        threads > 1,
                        "read ahead whenever there are threads"
                    );
                    assert!(queued <= READ_AHEAD_BYTES.max(chunk_size), "{queued}");
                });
            }
        }
    }
}
