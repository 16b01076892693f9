//! A closed-loop load generator: `concurrency` workers issue requests back to back until
//! `total` requests are done or `max_wall` has passed, and every latency is kept; and
//! [`paired`], which measures an operation and its floor in alternating slices.

use crate::samples::Samples;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One series. `op(i)` performs request number `i` and fails if its answer is wrong (a wrong
/// answer aborts the bench: a fast error is not a measurement).
pub async fn run<F, Fut>(
    concurrency: usize,
    total: usize,
    max_wall: Duration,
    op: F,
) -> anyhow::Result<Samples>
where
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + max_wall;
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (next, op) = (next.clone(), op.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(total / concurrency.max(1) + 1);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total || Instant::now() >= deadline {
                    break;
                }
                let t = Instant::now();
                op(i).await?;
                lat.push(t.elapsed());
            }
            anyhow::Ok(lat)
        }));
    }
    let mut all = Vec::with_capacity(total);
    for w in workers {
        all.extend(w.await??);
    }
    Ok(Samples::new(all, start.elapsed()))
}

/// Slices per [`paired`] series.
pub const SLICES: usize = 10;

/// Measures `a` and `b` (the plugin and its floor) in [`SLICES`] alternating slices of
/// `total / SLICES` requests each, `a` first. On a shared machine the load drifts over the
/// tens of seconds a series takes (back-to-back runs of one binary differ by 20–40 % here);
/// alternating makes the drift hit both sides alike, so their ratio stays meaningful. Each
/// side gets `max_wall` in all; request numbers run on across slices, so `op(i)` sees each
/// `i` in `0..total` at most once (a slice cut short by its wall share skips the rest of its
/// numbers).
pub async fn paired<A, FA, B, FB>(
    concurrency: usize,
    total: usize,
    max_wall: Duration,
    a: A,
    b: B,
) -> anyhow::Result<(Samples, Samples)>
where
    A: Fn(usize) -> FA + Clone + Send + Sync + 'static,
    FA: Future<Output = anyhow::Result<()>> + Send + 'static,
    B: Fn(usize) -> FB + Clone + Send + Sync + 'static,
    FB: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let per = total.div_ceil(SLICES).max(1);
    let slice_wall = max_wall / SLICES as u32;
    let (mut sa, mut sb) = (Vec::new(), Vec::new());
    for from in (0..total).step_by(per) {
        let n = per.min(total - from);
        let a = a.clone();
        sa.push(run(concurrency, n, slice_wall, move |i| a(from + i)).await?);
        let b = b.clone();
        sb.push(run(concurrency, n, slice_wall, move |i| b(from + i)).await?);
    }
    Ok((Samples::concat(sa), Samples::concat(sb)))
}
