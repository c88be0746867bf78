//! Size limits on caller input, and the cut applied to caller text echoed in errors.
//!
//! Ids, path parameters and URLs are bounded so that a runaway value fails before any IO
//! with [`Error::InvalidInput`](crate::Error::InvalidInput) instead of being sent, and so
//! that an error message never carries kilobytes of the caller's text.
//!
//! ```
//! use alter_core::limits::{ECHO_CHARS, excerpt};
//!
//! assert_eq!(excerpt("short"), "short");
//! let long = "x".repeat(1_000);
//! assert_eq!(excerpt(&long).chars().count(), ECHO_CHARS + 1);
//! assert!(excerpt(&long).ends_with('…'));
//! ```

/// The longest URL the SDK sends, in bytes: a backend URL (base URL, path and query) or a
/// provider URL after templating. Servers commonly refuse longer request lines.
pub const MAX_URL_LEN: usize = 8 * 1024;

/// The longest id (grant, agent, key, approval, managed secret) and the longest path
/// parameter value, in bytes. Real ids are UUIDs or short slugs; the bound only stops
/// runaway values.
pub const MAX_ID_LEN: usize = 1024;

/// The longest base URL, in bytes, leaving room under [`MAX_URL_LEN`] for paths and queries.
pub const MAX_BASE_URL_LEN: usize = 2 * 1024;

/// How many characters of caller text an error message repeats.
pub const ECHO_CHARS: usize = 200;

/// `text` cut to [`ECHO_CHARS`] characters, with `…` appended when something was cut.
pub fn excerpt(text: &str) -> String {
    match text.char_indices().nth(ECHO_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_keep_short_text_and_cut_long_text_on_a_char_boundary() {
        let exact = "é".repeat(ECHO_CHARS);
        assert_eq!(excerpt(&exact), exact);

        let long = "é".repeat(ECHO_CHARS + 1);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), ECHO_CHARS + 1);
        assert_eq!(cut, format!("{}…", "é".repeat(ECHO_CHARS)));
        assert_eq!(excerpt(""), "");
    }
}
