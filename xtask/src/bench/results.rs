//! What the measuring processes report, one JSON line each, and everything a run gathered.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Latency percentiles of one client in a round-trip run.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Latency {
    /// Median, in microseconds.
    pub p50_us: f64,
    /// 99th percentile, in microseconds.
    pub p99_us: f64,
    /// Calls measured.
    pub calls: usize,
    /// Calls that failed.
    pub errors: usize,
}

/// One round-trip run: our client and the bare stack with the same signed bytes.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct RoundTrip {
    /// `async` or `blocking`.
    pub client: String,
    /// `proxy` or `approval`.
    pub route: String,
    /// Our client.
    pub ours: Latency,
    /// reqwest (async) or ureq (blocking).
    pub bare: Latency,
}

/// One throughput level of one client.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Throughput {
    /// `async`, `blocking` or `python`.
    pub client: String,
    /// `proxy` or `approval`.
    pub route: String,
    /// Calls kept in flight.
    pub inflight: usize,
    /// Successful calls.
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// Seconds measured.
    pub secs: f64,
    /// Successful calls per second.
    pub per_sec: f64,
    /// CPU time of the client process while measuring, in seconds.
    pub cpu_secs: f64,
}

impl Throughput {
    /// Client CPU time per successful call, in nanoseconds.
    pub fn cpu_per_call_ns(&self) -> Option<f64> {
        (self.calls > 0).then(|| self.cpu_secs * 1e9 / self.calls as f64)
    }
}

/// One memory reading of a measuring process.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Memory {
    /// `await_approval` calls held (0 for the one-call process).
    pub awaits: usize,
    /// How many had made their first poll at the reading.
    pub polled: usize,
    /// How many were started at a time.
    pub batch: usize,
    /// Peak resident set (`VmHWM`), KiB.
    pub peak_rss_kib: u64,
    /// Resident set at the reading (`VmRSS`), KiB.
    pub rss_kib: u64,
    /// Seconds until every first poll was answered.
    pub secs: f64,
    /// File descriptors open at the reading (mostly pooled connections).
    #[serde(default)]
    pub open_fds: usize,
}

/// Everything one run measured; what failed to run is listed in `failures`.
#[derive(Clone, Debug, Default)]
pub struct Results {
    /// Criterion medians in nanoseconds, by bench id (`group/function`).
    pub micro: BTreeMap<String, f64>,
    /// Round-trip runs.
    pub roundtrips: Vec<RoundTrip>,
    /// Throughput levels of every client.
    pub throughputs: Vec<Throughput>,
    /// Memory runs holding awaits.
    pub holds: Vec<Memory>,
    /// The process that made one call.
    pub one_call: Option<Memory>,
    /// Measurements that could not be made, with why.
    pub failures: Vec<String>,
}

impl Results {
    /// The round-trip run of `client` on `route`.
    pub fn roundtrip(&self, client: &str, route: &str) -> Option<&RoundTrip> {
        self.roundtrips
            .iter()
            .find(|run| run.client == client && run.route == route)
    }

    /// The throughput of `client` on `route` at `inflight`.
    pub fn throughput(&self, client: &str, route: &str, inflight: usize) -> Option<&Throughput> {
        self.throughputs.iter().find(|level| {
            level.client == client && level.route == route && level.inflight == inflight
        })
    }
}
