//! How much a run measures: the full run the README reports, or the quick smoke run.

use std::time::Duration;

/// The sizes of one benchmark run.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Whether this is the reduced `--quick` run.
    pub quick: bool,
    /// Timed sequential calls per client, route and stack.
    pub roundtrip_calls: usize,
    /// How long each throughput level runs.
    pub throughput_time: Duration,
    /// The in-flight levels of the throughput runs.
    pub inflight: [usize; 3],
    /// `await_approval` calls the memory run holds.
    pub awaits: usize,
    /// How many awaits the batched memory run starts at a time.
    pub await_batch: usize,
    /// Criterion's warm-up time per micro bench.
    pub micro_warm_up: Duration,
    /// Criterion's measurement time per micro bench.
    pub micro_measure: Duration,
}

impl Plan {
    /// The full run, or the reduced one that finishes in under a minute after the build.
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                quick,
                roundtrip_calls: 500,
                throughput_time: Duration::from_secs(1),
                inflight: [1, 16, 64],
                awaits: 1_000,
                await_batch: 250,
                micro_warm_up: Duration::from_millis(200),
                micro_measure: Duration::from_millis(500),
            }
        } else {
            Self {
                quick,
                roundtrip_calls: 2_000,
                throughput_time: Duration::from_secs(10),
                inflight: [1, 16, 64],
                awaits: 10_000,
                await_batch: 500,
                micro_warm_up: Duration::from_secs(1),
                micro_measure: Duration::from_secs(3),
            }
        }
    }

    /// `full` or `quick`.
    pub fn name(&self) -> &'static str {
        if self.quick { "quick" } else { "full" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_run_meets_the_issue_sizes_and_the_quick_one_is_smaller() {
        let (full, quick) = (Plan::new(false), Plan::new(true));

        assert!(full.roundtrip_calls >= 2_000);
        assert_eq!(full.throughput_time, Duration::from_secs(10));
        assert_eq!(full.awaits, 10_000);
        assert!(quick.roundtrip_calls < full.roundtrip_calls);
        assert!(quick.throughput_time < full.throughput_time);
        assert!(quick.awaits < full.awaits);
    }
}
