//! Ordered parallel rendering of a long list: the list is cut into chunks that the current
//! rayon pool renders into buffers of their own, written out in list order.
//!
//! A busy log's report is mostly its `secrets` (18 of 20 MB for 16,000 secret paths), rendered
//! after every worker is done: on two cores, rendering it on one was a tenth of the run
//! (`blast`'s tokens, reads and rotation targets likewise). Output
//! is the same bytes whatever the number of threads: each chunk is rendered exactly as the serial
//! renderer would have written that stretch of the list, and chunks are written in order.
//!
//! Memory stays bounded: at most [`WINDOW_PER_THREAD`] chunks per pool thread are rendered ahead
//! of the writer, each of [`CHUNK_ITEMS`] items, never the whole list.

use std::io::{self, Write};

use rayon::prelude::*;

/// Items rendered per chunk: ~90 KB of pretty JSON for a secret with a few readers, enough
/// that handing a chunk to a thread costs nothing next to rendering it.
pub const CHUNK_ITEMS: usize = 64;

/// Chunks in flight per pool thread (rendered, not yet written).
pub const WINDOW_PER_THREAD: usize = 4;

/// Renders `items` chunk by chunk into `out`, in order. `render(start, chunk, buf)` appends a
/// chunk's output to `buf`; `start` is the index of its first item in the whole list, so that a
/// renderer knows whether a separator comes first.
///
/// In parallel only on a rayon pool the caller installed (`ThreadPool::install`) with more than
/// one thread: the pool's size is the user's `--threads`, and outside a pool (a library caller,
/// a test) rendering stays on the calling thread.
pub fn ordered<T, F>(
    items: &[T],
    chunk_items: usize,
    render: &F,
    out: &mut dyn Write,
) -> io::Result<()>
where
    T: Sync,
    F: Fn(usize, &[T], &mut Vec<u8>) -> io::Result<()> + Sync,
{
    let chunk_items = chunk_items.max(1);
    let threads = match rayon::current_thread_index() {
        Some(_) => rayon::current_num_threads(),
        None => 1,
    };
    let mut buf = Vec::new();
    if threads < 2 || items.len() <= chunk_items {
        for (n, chunk) in items.chunks(chunk_items).enumerate() {
            buf.clear();
            render(n * chunk_items, chunk, &mut buf)?;
            out.write_all(&buf)?;
        }
        return Ok(());
    }
    let window = chunk_items * WINDOW_PER_THREAD * threads;
    // Buffers come back after each window and are reused, so memory is one window's worth.
    let mut spare: Vec<Vec<u8>> = Vec::new();
    for (w, group) in items.chunks(window).enumerate() {
        let base = w * window;
        let jobs: Vec<(usize, &[T], Vec<u8>)> = group
            .chunks(chunk_items)
            .enumerate()
            .map(|(n, chunk)| {
                (
                    base + n * chunk_items,
                    chunk,
                    spare.pop().unwrap_or_default(),
                )
            })
            .collect();
        let rendered: Vec<io::Result<Vec<u8>>> = jobs
            .into_par_iter()
            .map(|(start, chunk, mut buf)| {
                buf.clear();
                render(start, chunk, &mut buf).map(|()| buf)
            })
            .collect();
        for r in rendered {
            let buf = r?;
            out.write_all(&buf)?;
            spare.push(buf);
        }
    }
    Ok(())
}

/// A pool of `threads` threads for the tests that render on one.
#[cfg(test)]
pub(crate) fn test_pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a test pool")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(start: usize, items: &[u32], buf: &mut Vec<u8>) -> io::Result<()> {
        for (i, n) in items.iter().enumerate() {
            if start + i > 0 {
                buf.push(b',');
            }
            write!(buf, "{n}")?;
        }
        Ok(())
    }

    /// Every thread count and chunk size gives the serial output: chunks in order, each item
    /// once, separators where the list position (not the chunk position) puts them.
    #[test]
    fn chunks_arrive_in_order_on_any_pool() {
        let items: Vec<u32> = (0..5_000).collect();
        let want = items
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        for threads in [1, 2, 3, 8] {
            let pool = test_pool(threads);
            for chunk in [1, 7, 64, 4_999, 5_000, 10_000] {
                let mut out = Vec::new();
                pool.install(|| ordered(&items, chunk, &numbers, &mut out))
                    .unwrap();
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    want,
                    "{threads} threads, {chunk}"
                );
            }
        }
    }

    /// An error in any chunk is returned, not swallowed.
    #[test]
    fn a_failing_chunk_fails_the_render() {
        let items: Vec<u32> = (0..1_000).collect();
        let fail = |start: usize, _: &[u32], _: &mut Vec<u8>| {
            if start >= 500 {
                Err(io::Error::other("chunk failed"))
            } else {
                Ok(())
            }
        };
        let pool = test_pool(2);
        let mut out = Vec::new();
        let err = pool
            .install(|| ordered(&items, 10, &fail, &mut out))
            .unwrap_err();
        assert_eq!(err.to_string(), "chunk failed");
    }
}
