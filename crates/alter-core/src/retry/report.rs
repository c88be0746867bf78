//! The retry history of a call, in the shape of the backend's `retry_info`.

use serde_json::{Value, json};

/// The retry history of one logical call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RetryReport {
    /// Attempts made.
    pub total_attempts: u32,
    /// The attempt that succeeded (1-based), or 0 if none did.
    pub successful_attempt: u32,
    /// One entry per failed attempt.
    pub errors: Vec<RetryErrorReport>,
}

/// One failed attempt of a [`RetryReport`].
#[derive(Clone, Debug, PartialEq)]
pub struct RetryErrorReport {
    /// Which attempt failed (1-based).
    pub attempt: u32,
    /// What went wrong (at most 500 characters, no secrets).
    pub error: String,
    /// The failure's kind: `http_<status>`, `connect`, `timeout`, `io`,
    /// `response_too_large` or `invalid_request`.
    pub error_type: String,
    /// Seconds waited before the next attempt (0 when none followed).
    pub delay_s: f64,
    /// Whether the failure ended the call.
    pub permanent: bool,
}

impl RetryReport {
    /// The report in the wire shape of the backend's `retry_info` (PROTOCOL.md §6.9).
    pub fn to_json(&self) -> Value {
        let errors: Vec<Value> = self
            .errors
            .iter()
            .map(|e| {
                json!({
                    "attempt": e.attempt,
                    "error": e.error,
                    "error_type": e.error_type,
                    "delay_s": e.delay_s,
                    "permanent": e.permanent,
                })
            })
            .collect();

        json!({
            "total_attempts": self.total_attempts,
            "successful_attempt": self.successful_attempt,
            "errors": errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_report_serializes_with_every_field() {
        let report = RetryReport::default();

        assert_eq!(
            report.to_json(),
            json!({"total_attempts": 0, "successful_attempt": 0, "errors": []})
        );
    }
}
