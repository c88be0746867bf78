//! The error returned when a value built locally breaks a protocol limit.
//!
//! Every check here runs before anything is sent, so a [`ValidationError`] always means the
//! request never left the process.

/// A locally built value breaks one of the protocol's input rules.
///
/// Each variant names the offending field (its wire name) and says why it was refused. The
/// value itself is never included, because it may be a credential such as a user token.
///
/// # Example
///
/// ```
/// use alter_types::{Principal, ValidationError};
///
/// let error = Principal::user("", "alice").unwrap_err();
/// assert_eq!(error, ValidationError::Empty { field: "user_token" });
/// assert_eq!(error.field(), "user_token");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The field must not be empty.
    #[error("{field} must not be empty")]
    Empty {
        /// Wire name of the field.
        field: &'static str,
    },

    /// The field is longer than the protocol allows (lengths count Unicode characters).
    #[error("{field} is {len} characters long, at most {max} are allowed")]
    TooLong {
        /// Wire name of the field.
        field: &'static str,
        /// Largest accepted length.
        max: usize,
        /// Length of the refused value.
        len: usize,
    },

    /// The field must be a number greater than zero.
    #[error("{field} must be greater than zero")]
    NotPositive {
        /// Wire name of the field.
        field: &'static str,
    },

    /// The field breaks some other rule, described by `reason`.
    #[error("{field} is invalid: {reason}")]
    Invalid {
        /// Wire name of the field.
        field: &'static str,
        /// What is wrong, in lower case, without the value itself.
        reason: String,
    },
}

impl ValidationError {
    /// Wire name of the field that failed the check.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Empty { field }
            | Self::TooLong { field, .. }
            | Self::NotPositive { field }
            | Self::Invalid { field, .. } => field,
        }
    }
}

/// Checks that `value` holds between `min` and `max` characters (Unicode scalar values, which is
/// how the reference client counts).
pub(crate) fn check_length(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), ValidationError> {
    let len = value.chars().count();

    if len < min {
        return Err(ValidationError::Empty { field });
    }
    if len > max {
        return Err(ValidationError::TooLong { field, max, len });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_characters_not_bytes() {
        // 255 two-byte characters are 510 bytes but still within a 255-character limit.
        let label = "é".repeat(255);
        assert_eq!(check_length("label", &label, 1, 255), Ok(()));

        let too_long = "é".repeat(256);
        assert_eq!(
            check_length("label", &too_long, 1, 255),
            Err(ValidationError::TooLong {
                field: "label",
                max: 255,
                len: 256
            })
        );
    }

    #[test]
    fn empty_is_refused_only_when_a_minimum_applies() {
        assert_eq!(
            check_length("label", "", 1, 255),
            Err(ValidationError::Empty { field: "label" })
        );
        assert_eq!(check_length("label", "", 0, 255), Ok(()));
    }

    #[test]
    fn display_names_the_field_without_the_value() {
        let error = ValidationError::TooLong {
            field: "user_token",
            max: 8192,
            len: 9000,
        };
        assert_eq!(
            error.to_string(),
            "user_token is 9000 characters long, at most 8192 are allowed"
        );
        assert_eq!(error.field(), "user_token");

        let error = ValidationError::Invalid {
            field: "x",
            reason: "bad shape".into(),
        };
        assert_eq!(error.to_string(), "x is invalid: bad shape");
        assert_eq!(error.field(), "x");
    }
}
