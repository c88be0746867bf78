//! Latency percentiles.

use std::time::Duration;

use serde::Serialize;

/// The latencies of one client in one run.
#[derive(Clone, Copy, Debug, Serialize)]
pub(crate) struct Latency {
    /// Median, in microseconds.
    pub(crate) p50_us: f64,
    /// 99th percentile, in microseconds.
    pub(crate) p99_us: f64,
    /// Calls measured.
    pub(crate) calls: usize,
    /// Calls that failed (still timed).
    pub(crate) errors: usize,
}

impl Latency {
    /// Percentiles of `samples` (nearest rank); zeros for no samples.
    pub(crate) fn of(mut samples: Vec<Duration>, errors: usize) -> Self {
        samples.sort_unstable();
        Self {
            p50_us: micros(percentile(&samples, 50)),
            p99_us: micros(percentile(&samples, 99)),
            calls: samples.len(),
            errors,
        }
    }
}

/// The nearest-rank `p`th percentile of sorted samples.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();

        let latency = Latency::of(samples, 2);

        assert_eq!(latency.p50_us.round(), 50.0);
        assert_eq!(latency.p99_us.round(), 99.0);
        assert_eq!((latency.calls, latency.errors), (100, 2));
        assert_eq!(Latency::of(Vec::new(), 0).p50_us, 0.0);
    }
}
