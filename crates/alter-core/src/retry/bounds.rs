//! The ranges a [`RetryConfig`] must stay within, checked when a client is built.

use std::time::Duration;

use super::RetryConfig;
use crate::error::{Error, Result};
use crate::options::MAX_TIMEOUT;

/// The most attempts a call may make, the first included.
pub const MAX_ATTEMPTS: u32 = 10;

/// The shortest backoff delay a configuration may ask for: retrying at once would hammer a
/// backend that is already failing.
pub const MIN_BACKOFF: Duration = Duration::from_millis(1);

impl RetryConfig {
    /// Checks that every field is in range (see the table on [`RetryConfig`]).
    ///
    /// Client builders and [`Engine::new`](crate::Engine::new) call this, so an
    /// out-of-range policy fails at construction instead of flooding the backend later.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the first field out of range.
    ///
    /// ```
    /// use std::time::Duration;
    /// use alter_core::retry::RetryConfig;
    ///
    /// assert!(RetryConfig::default().validate().is_ok());
    /// let flood = RetryConfig { max_attempts: u32::MAX, ..RetryConfig::default() };
    /// assert!(flood.validate().is_err());
    /// let spin = RetryConfig { initial_backoff: Duration::ZERO, ..RetryConfig::default() };
    /// assert!(spin.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_ATTEMPTS).contains(&self.max_attempts) {
            return Err(Error::invalid_input(format!(
                "retry max_attempts must be from 1 to {MAX_ATTEMPTS}"
            )));
        }

        let ranges = [
            ("initial_backoff", self.initial_backoff, MIN_BACKOFF),
            ("max_backoff", self.max_backoff, MIN_BACKOFF),
            ("total_budget", self.total_budget, Duration::ZERO),
            ("max_retry_after", self.max_retry_after, Duration::ZERO),
        ];
        for (field, value, least) in ranges {
            if value < least || value > MAX_TIMEOUT {
                return Err(Error::invalid_input(format!(
                    "retry {field} must be from {least:?} to one day"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_and_the_edges_of_each_range_pass() {
        let edges = RetryConfig {
            max_attempts: MAX_ATTEMPTS,
            initial_backoff: MIN_BACKOFF,
            max_backoff: MAX_TIMEOUT,
            total_budget: MAX_TIMEOUT,
            max_retry_after: Duration::ZERO,
            jitter_seed: u64::MAX,
        };

        assert_eq!(RetryConfig::default().validate().ok(), Some(()));
        assert_eq!(edges.validate().ok(), Some(()));
        let once = RetryConfig {
            max_attempts: 1,
            total_budget: Duration::ZERO,
            ..RetryConfig::default()
        };
        assert_eq!(once.validate().ok(), Some(()));
    }

    #[test]
    fn a_flooding_policy_is_refused_as_input() {
        let day_and_a_bit = MAX_TIMEOUT + Duration::from_nanos(1);
        let cases = [
            RetryConfig {
                max_attempts: u32::MAX,
                ..RetryConfig::default()
            },
            RetryConfig {
                max_attempts: MAX_ATTEMPTS + 1,
                ..RetryConfig::default()
            },
            RetryConfig {
                max_attempts: 0,
                ..RetryConfig::default()
            },
            RetryConfig {
                initial_backoff: Duration::ZERO,
                ..RetryConfig::default()
            },
            RetryConfig {
                max_backoff: Duration::ZERO,
                ..RetryConfig::default()
            },
            RetryConfig {
                max_backoff: day_and_a_bit,
                ..RetryConfig::default()
            },
            RetryConfig {
                total_budget: Duration::MAX,
                ..RetryConfig::default()
            },
            RetryConfig {
                max_retry_after: Duration::MAX,
                ..RetryConfig::default()
            },
        ];

        for config in cases {
            let error = config.validate().unwrap_err();
            assert!(error.is_invalid_input(), "{config:?}: {error:?}");
        }
    }
}
