//! Latency samples and their percentiles.

use std::time::Duration;

/// Latencies of one measured series, sorted on creation.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    sorted: Vec<Duration>,
    /// Wall time of the whole series (for throughput).
    pub wall: Duration,
}

impl Samples {
    pub fn new(mut v: Vec<Duration>, wall: Duration) -> Samples {
        v.sort_unstable();
        Samples { sorted: v, wall }
    }

    /// One series out of several measured in slices: all latencies, the slices' wall times
    /// added up.
    pub fn concat(parts: Vec<Samples>) -> Samples {
        let wall = parts.iter().map(|p| p.wall).sum();
        Samples::new(parts.into_iter().flat_map(|p| p.sorted).collect(), wall)
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// Nearest-rank percentile, `q` in 0..=100.
    pub fn pct(&self, q: f64) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q / 100.0) * self.sorted.len() as f64).ceil() as usize;
        self.sorted[rank.clamp(1, self.sorted.len()) - 1]
    }

    pub fn p50(&self) -> Duration {
        self.pct(50.0)
    }

    pub fn p99(&self) -> Duration {
        self.pct(99.0)
    }

    pub fn mean(&self) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        self.sorted.iter().sum::<Duration>() / self.sorted.len() as u32
    }

    /// Requests per second over the series' wall time.
    pub fn throughput(&self) -> f64 {
        if self.wall.is_zero() {
            return 0.0;
        }
        self.sorted.len() as f64 / self.wall.as_secs_f64()
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Median of a few repeated measurements.
pub fn median(mut v: Vec<Duration>) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort_unstable();
    v[v.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Samples::new(
            (1..=100).rev().map(Duration::from_millis).collect(),
            Duration::from_secs(2),
        );
        assert_eq!(s.p50(), Duration::from_millis(50));
        assert_eq!(s.p99(), Duration::from_millis(99));
        assert_eq!(s.pct(100.0), Duration::from_millis(100));
        assert_eq!(s.pct(0.0), Duration::from_millis(1));
        assert_eq!(s.throughput(), 50.0);
        assert_eq!(Samples::default().p50(), Duration::ZERO);
    }

    #[test]
    fn slices_make_one_series() {
        let slice = |ms: &[u64], wall: u64| {
            Samples::new(
                ms.iter().copied().map(Duration::from_millis).collect(),
                Duration::from_secs(wall),
            )
        };
        let s = Samples::concat(vec![slice(&[4, 1], 1), slice(&[3, 2], 3)]);
        assert_eq!(s.len(), 4);
        assert_eq!(s.pct(25.0), Duration::from_millis(1));
        assert_eq!(s.pct(100.0), Duration::from_millis(4));
        assert_eq!(s.wall, Duration::from_secs(4));
        assert_eq!(s.throughput(), 1.0);
    }

    #[test]
    fn median_of_repeats() {
        let v = [3, 1, 2].map(Duration::from_millis).to_vec();
        assert_eq!(median(v), Duration::from_millis(2));
    }
}
