//! The one markdown table of a run: each figure, its baseline, their ratio, and the
//! issue's target where it has one. Nothing here fails on a number.

use std::fmt::Write as _;

use super::plan::Plan;
use super::results::{Latency, Results};

/// A measured quantity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Figure {
    /// A duration, in nanoseconds.
    Nanos(f64),
    /// Calls per second.
    Rate(f64),
    /// Memory, in KiB.
    Kib(f64),
}

impl Figure {
    fn value(self) -> f64 {
        match self {
            Self::Nanos(v) | Self::Rate(v) | Self::Kib(v) => v,
        }
    }

    fn render(self) -> String {
        match self {
            Self::Nanos(ns) if ns < 1_000.0 => format!("{ns:.0} ns"),
            Self::Nanos(ns) if ns < 1_000_000.0 => format!("{:.2} µs", ns / 1e3),
            Self::Nanos(ns) => format!("{:.2} ms", ns / 1e6),
            Self::Rate(rate) => format!("{}/s", thousands(rate.round() as u64)),
            Self::Kib(kib) => format!("{:.1} MiB", kib / 1024.0),
        }
    }
}

/// What a row is held to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// Informational only.
    None,
    /// ours / baseline at most this.
    RatioAtMost(f64),
    /// ours / baseline at least this.
    RatioAtLeast(f64),
    /// ours strictly below this.
    Below(Figure),
}

/// One line of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// What is measured, and against what.
    pub measure: String,
    /// Our figure; `None` when it could not be measured.
    pub ours: Option<Figure>,
    /// The baseline's figure, when the row compares.
    pub baseline: Option<Figure>,
    /// Whether the row has a baseline at all (a missing one then shows as n/a).
    pub compared: bool,
    /// The target.
    pub target: Target,
}

impl Row {
    fn new(measure: impl Into<String>, ours: Option<Figure>) -> Self {
        Self {
            measure: measure.into(),
            ours,
            baseline: None,
            compared: false,
            target: Target::None,
        }
    }

    fn against(mut self, baseline: Option<Figure>) -> Self {
        self.baseline = baseline;
        self.compared = true;
        self
    }

    fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// ours / baseline, when both were measured.
    pub fn ratio(&self) -> Option<f64> {
        let (ours, baseline) = (self.ours?.value(), self.baseline?.value());
        (baseline > 0.0).then(|| ours / baseline)
    }

    /// Whether the target is met; `None` without a target or without the figures.
    pub fn met(&self) -> Option<bool> {
        match self.target {
            Target::None => None,
            Target::RatioAtMost(limit) => self.ratio().map(|ratio| ratio <= limit),
            Target::RatioAtLeast(limit) => self.ratio().map(|ratio| ratio >= limit),
            Target::Below(limit) => self.ours.map(|ours| ours.value() < limit.value()),
        }
    }

    fn render(&self) -> String {
        let missing = "n/a".to_owned();
        let ours = self.ours.map_or_else(|| missing.clone(), Figure::render);
        let baseline = match (self.compared, self.baseline) {
            (_, Some(figure)) => figure.render(),
            (true, None) => missing.clone(),
            (false, None) => "—".to_owned(),
        };
        let ratio = match (self.compared, self.ratio()) {
            (_, Some(ratio)) => format!("{ratio:.2}×"),
            (true, None) => missing,
            (false, None) => "—".to_owned(),
        };
        let target = match self.target {
            Target::None => "—".to_owned(),
            Target::RatioAtMost(limit) => format!("≤ {limit:.2}×"),
            Target::RatioAtLeast(limit) => format!("≥ {limit:.0}×"),
            Target::Below(limit) => format!("< {}", limit.render()),
        };
        let met = match self.met() {
            None if self.target == Target::None => "",
            None => "n/a",
            Some(true) => "yes",
            Some(false) => "**no**",
        };
        format!(
            "| {} | {ours} | {baseline} | {ratio} | {target} | {met} |\n",
            self.measure
        )
    }
}

/// The report: a caption line and the table.
pub fn render(results: &Results, plan: &Plan, cores: usize) -> String {
    let mut out = format!(
        "alter-rs benchmarks: {} run, {cores} cores (`nproc`), alter-testkit on loopback; \
         ratios are alter-rs / baseline.\n\n",
        plan.name()
    );
    out.push_str("| Measure | alter-rs | Baseline | Ratio | Target | Met |\n");
    out.push_str("|---|---:|---:|---:|---|---|\n");
    for row in rows(results, plan) {
        out.push_str(&row.render());
    }
    if !results.failures.is_empty() {
        out.push_str("\nNot measured:\n");
        for failure in &results.failures {
            let _ = writeln!(out, "- {failure}");
        }
    }
    out
}

const ROUTES: [(&str, &str); 2] = [
    ("proxy", "`POST /sdk/proxy`"),
    ("approval", "`GET /sdk/approvals/{id}`"),
];

const CLIENTS: [(&str, &str, &str); 2] = [
    ("async", "alter-async", "reqwest"),
    ("blocking", "alter-blocking", "ureq"),
];

/// Every row, in the order of the issue: micro, round trip, throughput, memory.
pub fn rows(results: &Results, plan: &Plan) -> Vec<Row> {
    let mut rows = micro_rows(results);
    rows.extend(roundtrip_rows(results));
    rows.extend(throughput_rows(results, plan));
    rows.extend(memory_rows(results, plan));
    rows
}

fn micro_rows(results: &Results) -> Vec<Row> {
    let micro = |id: &str| results.micro.get(id).copied().map(Figure::Nanos);
    vec![
        Row::new(
            "sign + build a `/sdk/proxy` request",
            micro("build/proxy_request"),
        )
        .target(Target::Below(Figure::Nanos(2_000.0))),
        Row::new(
            "derive the signing key + sign",
            micro("sign/derive_and_sign"),
        ),
        Row::new("sign (key derived once)", micro("sign/sign")),
        Row::new(
            "parse a small `ApprovalResult` vs raw `serde_json::from_slice`",
            micro("parse_small/ours"),
        )
        .against(micro("parse_small/raw_serde")),
        Row::new(
            "parse a 1 MiB `ApprovalResult` vs raw `serde_json::from_slice`",
            micro("parse_1mib/ours"),
        )
        .against(micro("parse_1mib/raw_serde"))
        .target(Target::RatioAtMost(2.0)),
        Row::new(
            "… of which typed serde alone (1 MiB) vs raw",
            micro("parse_1mib/typed_serde"),
        )
        .against(micro("parse_1mib/raw_serde")),
        Row::new("classify an error body", micro("classify/proxy_error")),
        Row::new("one approval poller step", micro("poll/approval_step")),
    ]
}

fn roundtrip_rows(results: &Results) -> Vec<Row> {
    let mut rows = Vec::new();
    for (client, ours_name, bare_name) in CLIENTS {
        for (route, route_name) in ROUTES {
            let run = results.roundtrip(client, route);
            let errors = run.map_or(0, |run| run.ours.errors + run.bare.errors);
            let pick = |latency: fn(&super::results::RoundTrip) -> &Latency, p99: bool| {
                run.map(|run| {
                    let latency = latency(run);
                    Figure::Nanos(if p99 { latency.p99_us } else { latency.p50_us } * 1e3)
                })
            };
            let label = |percentile: &str| {
                format!(
                    "round trip {percentile}, {route_name}: {ours_name} vs bare {bare_name}{}",
                    error_note(errors as u64)
                )
            };
            rows.push(
                Row::new(label("p50"), pick(|run| &run.ours, false))
                    .against(pick(|run| &run.bare, false))
                    .target(Target::RatioAtMost(1.10)),
            );
            rows.push(
                Row::new(label("p99"), pick(|run| &run.ours, true))
                    .against(pick(|run| &run.bare, true)),
            );
        }
    }
    rows
}

fn throughput_rows(results: &Results, plan: &Plan) -> Vec<Row> {
    let mut rows = Vec::new();
    for (route, route_name) in ROUTES {
        for inflight in plan.inflight {
            let python = results.throughput("python", route, inflight);
            for (client, ours_name, _) in CLIENTS {
                let ours = results.throughput(client, route, inflight);
                let errors = ours.map_or(0, |t| t.errors) + python.map_or(0, |t| t.errors);
                let target = if inflight == 64 {
                    Target::RatioAtLeast(25.0)
                } else {
                    Target::None
                };
                rows.push(
                    Row::new(
                        format!(
                            "throughput, {route_name}, {inflight} in flight: {ours_name} vs Python SDK{}",
                            error_note(errors)
                        ),
                        ours.map(|t| Figure::Rate(t.per_sec)),
                    )
                    .against(python.map(|t| Figure::Rate(t.per_sec)))
                    .target(target),
                );
            }
        }

        // Where the fake on the same cores caps the rate, CPU per call still compares the
        // clients themselves.
        let inflight = plan.inflight[plan.inflight.len() - 1];
        let python = results.throughput("python", route, inflight);
        for (client, ours_name, _) in CLIENTS {
            let ours = results.throughput(client, route, inflight);
            rows.push(
                Row::new(
                    format!(
                        "client CPU per call, {route_name}, {inflight} in flight: {ours_name} vs Python SDK"
                    ),
                    ours.and_then(|t| t.cpu_per_call_ns()).map(Figure::Nanos),
                )
                .against(python.and_then(|t| t.cpu_per_call_ns()).map(Figure::Nanos)),
            );
        }
    }
    rows
}

fn memory_rows(results: &Results, plan: &Plan) -> Vec<Row> {
    let limit = Target::Below(Figure::Kib(64.0 * 1024.0));
    let mut rows: Vec<Row> = results
        .holds
        .iter()
        .map(|hold| {
            let how = if hold.batch >= hold.awaits {
                "all started at once".to_owned()
            } else {
                format!("started {} at a time", thousands(hold.batch as u64))
            };
            let polled = if hold.polled < hold.awaits {
                format!(", only {} polled", thousands(hold.polled as u64))
            } else {
                String::new()
            };
            Row::new(
                format!(
                    "peak RSS, {} concurrent `await_approval` on one runtime ({how}{polled}; {} fds open)",
                    thousands(hold.awaits as u64),
                    thousands(hold.open_fds as u64)
                ),
                Some(Figure::Kib(hold.peak_rss_kib as f64)),
            )
            .target(limit)
        })
        .collect();
    if rows.is_empty() {
        rows.push(
            Row::new(
                format!(
                    "peak RSS, {} concurrent `await_approval` on one runtime",
                    thousands(plan.awaits as u64)
                ),
                None,
            )
            .target(limit),
        );
    }
    rows.push(Row::new(
        "peak RSS, a process that made one call",
        results
            .one_call
            .as_ref()
            .map(|one| Figure::Kib(one.peak_rss_kib as f64)),
    ));
    rows
}

fn error_note(errors: u64) -> String {
    if errors == 0 {
        String::new()
    } else {
        format!(" ({errors} failed calls)")
    }
}

/// `12345` → `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::results::{Memory, RoundTrip, Throughput};
    use super::*;

    fn latency(p50_us: f64, p99_us: f64) -> Latency {
        Latency {
            p50_us,
            p99_us,
            calls: 2_000,
            errors: 0,
        }
    }

    fn throughput(client: &str, inflight: usize, per_sec: f64) -> Throughput {
        Throughput {
            client: client.into(),
            route: "proxy".into(),
            inflight,
            calls: 1,
            errors: 0,
            secs: 1.0,
            per_sec,
            cpu_secs: 0.5,
        }
    }

    #[test]
    fn figures_read_naturally() {
        assert_eq!(Figure::Nanos(850.0).render(), "850 ns");
        assert_eq!(Figure::Nanos(1_500.0).render(), "1.50 µs");
        assert_eq!(Figure::Nanos(2_500_000.0).render(), "2.50 ms");
        assert_eq!(Figure::Rate(12_345.4).render(), "12,345/s");
        assert_eq!(Figure::Kib(2_048.0).render(), "2.0 MiB");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn targets_are_judged_on_ratios_or_absolute_figures() {
        let slow = Row::new("x", Some(Figure::Nanos(120.0)))
            .against(Some(Figure::Nanos(100.0)))
            .target(Target::RatioAtMost(1.10));
        let fast = Row::new("y", Some(Figure::Rate(3_000.0)))
            .against(Some(Figure::Rate(100.0)))
            .target(Target::RatioAtLeast(25.0));
        let small = Row::new("z", Some(Figure::Kib(1024.0)))
            .target(Target::Below(Figure::Kib(64.0 * 1024.0)));
        let unmeasured = Row::new("w", None).target(Target::Below(Figure::Nanos(1.0)));

        assert_eq!(slow.met(), Some(false));
        assert_eq!(fast.met(), Some(true));
        assert_eq!(small.met(), Some(true));
        assert_eq!(unmeasured.met(), None);
        assert!(slow.render().contains("| 1.20× | ≤ 1.10× | **no** |"));
        assert!(unmeasured.render().contains("| n/a |"));
    }

    #[test]
    fn the_table_has_every_section_and_names_what_failed() {
        let plan = Plan::new(true);
        let mut results = Results::default();
        results.micro.insert("build/proxy_request".into(), 1_200.0);
        results.roundtrips.push(RoundTrip {
            client: "async".into(),
            route: "proxy".into(),
            ours: latency(105.0, 200.0),
            bare: latency(100.0, 190.0),
        });
        results.throughputs.push(throughput("async", 64, 30_000.0));
        results.throughputs.push(throughput("python", 64, 1_000.0));
        results.holds.push(Memory {
            awaits: 1_000,
            polled: 1_000,
            batch: 1_000,
            peak_rss_kib: 20_480,
            rss_kib: 10_240,
            secs: 1.0,
            open_fds: 1_010,
        });
        results.failures.push("python: no python3".into());

        let table = render(&results, &plan, 2);

        assert!(table.contains("2 cores"));
        assert!(table.contains(
            "| sign + build a `/sdk/proxy` request | 1.20 µs | — | — | < 2.00 µs | yes |"
        ));
        assert!(table.contains("round trip p50, `POST /sdk/proxy`: alter-async vs bare reqwest | 105.00 µs | 100.00 µs | 1.05× | ≤ 1.10× | yes |"));
        assert!(table.contains(
            "64 in flight: alter-async vs Python SDK | 30,000/s | 1,000/s | 30.00× | ≥ 25× | yes |"
        ));
        assert!(table.contains("client CPU per call, `POST /sdk/proxy`, 64 in flight: alter-async vs Python SDK | 500.00 ms | 500.00 ms | 1.00× | — |  |"));
        assert!(table.contains("peak RSS, 1,000 concurrent `await_approval` on one runtime (all started at once; 1,010 fds open) | 20.0 MiB"));
        assert!(table.contains("- python: no python3"));
        let header_rows = table
            .lines()
            .filter(|line| line.starts_with("|---"))
            .count();
        assert_eq!(header_rows, 1, "one table");
    }
}
