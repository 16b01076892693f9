//! A closed-loop load generator: `concurrency` workers issue requests back to back until
//! `total` requests are done or `max_wall` has passed, and every latency is kept.

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
