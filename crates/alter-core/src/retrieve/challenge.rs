//! RFC 6750 bearer challenges in `WWW-Authenticate` (PROTOCOL §6.10).
//!
//! A provider that refuses a token for lack of scope answers 403 with
//! `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."`. Only the first
//! challenge of the header is read, and only when it is a `Bearer` challenge.

/// Parameters of the leading `Bearer` challenge of a `WWW-Authenticate` value.
///
/// Names are lower-cased; a repeated name keeps its first position and its last value.
/// Anything that is not a bearer challenge gives an empty list. Never fails.
///
/// The grammar read: a scheme token `[A-Za-z][A-Za-z0-9_-]*` followed by whitespace (leading
/// whitespace of the value is ignored); then parameters `name = value`, the name matching
/// `[A-Za-z_][A-Za-z0-9_-]*`, the value either a quoted string (a backslash escapes the next
/// character) or a run of characters other than comma and whitespace; parameters are
/// separated by one comma with optional whitespace around it. Reading stops at the first
/// thing that does not fit, which is how a second challenge is left out.
///
/// # Example
///
/// ```
/// use alter_core::retrieve::challenge::parse_bearer_challenge;
///
/// let params = parse_bearer_challenge(
///     r#"Bearer realm=x,error=invalid_token, Basic realm="y", error="insufficient_scope""#,
/// );
/// assert_eq!(
///     params,
///     vec![
///         ("realm".to_string(), "x".to_string()),
///         ("error".to_string(), "invalid_token".to_string()),
///     ]
/// );
/// ```
pub fn parse_bearer_challenge(header: &str) -> Vec<(String, String)> {
    let mut scanner = Scanner {
        rest: header.trim_start_matches([' ', '\t']),
    };
    let mut params: Vec<(String, String)> = Vec::new();

    let Some(scheme) = scanner.token(is_scheme_start) else {
        return params;
    };
    if !scheme.eq_ignore_ascii_case("bearer") || !scanner.whitespace() {
        return params;
    }

    while let Some((name, value)) = scanner.param() {
        let name = name.to_ascii_lowercase();
        match params.iter_mut().find(|(existing, _)| *existing == name) {
            Some(slot) => slot.1 = value,
            None => params.push((name, value)),
        }
        if !scanner.comma() {
            break;
        }
    }
    params
}

/// A provider's `insufficient_scope` bearer challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsufficientScopeChallenge {
    /// The challenge's `scope` split on whitespace; `None` when absent or blank.
    pub missing_scopes: Option<Vec<String>>,
    /// The whole `WWW-Authenticate` value, as received.
    pub raw: String,
}

/// The `insufficient_scope` challenge in `header`, if that is what it says.
///
/// Returns `Some` exactly when [`parse_bearer_challenge`] finds `error` equal to
/// `insufficient_scope` (case-sensitive, as the reference client compares it).
///
/// # Example
///
/// ```
/// use alter_core::retrieve::challenge::insufficient_scope;
///
/// let header = r#"Bearer error="insufficient_scope", scope="a b""#;
/// let challenge = insufficient_scope(header).expect("an insufficient_scope challenge");
/// assert_eq!(challenge.missing_scopes, Some(vec!["a".to_string(), "b".to_string()]));
/// assert!(insufficient_scope(r#"Bearer error="invalid_token""#).is_none());
/// ```
pub fn insufficient_scope(header: &str) -> Option<InsufficientScopeChallenge> {
    let params = parse_bearer_challenge(header);
    let value_of = |key: &str| params.iter().find(|(name, _)| name == key).map(|(_, v)| v);

    if value_of("error").map(String::as_str) != Some("insufficient_scope") {
        return None;
    }

    let missing_scopes = value_of("scope")
        .map(|scope| {
            scope
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|scopes| !scopes.is_empty());
    Some(InsufficientScopeChallenge {
        missing_scopes,
        raw: header.to_owned(),
    })
}

/// A cursor over the header value.
struct Scanner<'a> {
    rest: &'a str,
}

impl<'a> Scanner<'a> {
    /// Consumes a token whose first character satisfies `is_start` and whose others are
    /// ASCII alphanumerics, `_` or `-`.
    fn token(&mut self, is_start: fn(char) -> bool) -> Option<&'a str> {
        let mut chars = self.rest.char_indices();
        let (_, first) = chars.next()?;
        if !is_start(first) {
            return None;
        }
        let end = chars
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(self.rest.len(), |(at, _)| at);
        let (token, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(token)
    }

    /// Consumes whitespace; says whether there was any.
    fn whitespace(&mut self) -> bool {
        let trimmed = self.rest.trim_start();
        let consumed = trimmed.len() != self.rest.len();
        self.rest = trimmed;
        consumed
    }

    /// Consumes `name = value`, or nothing when no parameter starts here.
    fn param(&mut self) -> Option<(&'a str, String)> {
        let saved = self.rest;
        let parsed = self.param_inner();
        if parsed.is_none() {
            self.rest = saved;
        }
        parsed
    }

    fn param_inner(&mut self) -> Option<(&'a str, String)> {
        self.whitespace();
        let name = self.token(is_param_start)?;
        self.whitespace();
        self.rest = self.rest.strip_prefix('=')?;
        self.whitespace();
        let value = match self.quoted() {
            Some(value) => value,
            None => self.bare()?,
        };
        Some((name, value))
    }

    /// Consumes a complete quoted string and returns it unescaped.
    fn quoted(&mut self) -> Option<String> {
        let body = self.rest.strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = body.char_indices();
        while let Some((at, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &body[at + 1..];
                    return Some(value);
                }
                // A backslash escapes any character but a line feed; a lone backslash
                // makes the whole value unquotable, and it is then read as a bare token.
                '\\' => match chars.next() {
                    Some((_, escaped)) if escaped != '\n' => value.push(escaped),
                    _ => return None,
                },
                other => value.push(other),
            }
        }
        None
    }

    /// Consumes a non-empty run of characters other than comma and whitespace.
    fn bare(&mut self) -> Option<String> {
        let end = self
            .rest
            .char_indices()
            .find(|&(_, c)| c == ',' || c.is_whitespace())
            .map_or(self.rest.len(), |(at, _)| at);
        if end == 0 {
            return None;
        }
        let (value, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(value.to_owned())
    }

    /// Consumes one comma with optional whitespace around it; restores on failure.
    fn comma(&mut self) -> bool {
        let saved = self.rest;
        self.whitespace();
        match self.rest.strip_prefix(',') {
            Some(rest) => {
                self.rest = rest;
                self.whitespace();
                true
            }
            None => {
                self.rest = saved;
                false
            }
        }
    }
}

fn is_scheme_start(c: char) -> bool {
    c.is_ascii_alphabetic()
}

fn is_param_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn reads_quoted_and_bare_values() {
        let header = r#"Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="https://www.googleapis.com/auth/gmail.readonly""#;
        assert_eq!(
            parse_bearer_challenge(header),
            pairs(&[
                ("realm", "https://accounts.google.com/"),
                ("error", "insufficient_scope"),
                ("scope", "https://www.googleapis.com/auth/gmail.readonly"),
            ])
        );
    }

    #[test]
    fn only_the_first_challenge_is_read() {
        let header =
            r#"Bearer realm=x,error=invalid_token, Basic realm="y", error="insufficient_scope""#;
        assert_eq!(
            parse_bearer_challenge(header),
            pairs(&[("realm", "x"), ("error", "invalid_token")])
        );
    }

    #[test]
    fn non_bearer_or_bare_scheme_gives_nothing() {
        for header in [
            "",
            "Bearer",
            "Bearer ",
            "Basic realm=x",
            "Bearerx error=y",
            "1Bearer a=b",
        ] {
            assert!(parse_bearer_challenge(header).is_empty(), "{header:?}");
        }
    }

    #[test]
    fn scheme_is_case_insensitive_and_names_are_lowered() {
        assert_eq!(
            parse_bearer_challenge("bEaReR  ERROR = \"a\\\"b\\\\c\" ,Scope=x"),
            pairs(&[("error", "a\"b\\c"), ("scope", "x")])
        );
    }

    #[test]
    fn later_duplicates_overwrite_in_place() {
        assert_eq!(
            parse_bearer_challenge("Bearer a=1, b=2, A=3"),
            pairs(&[("a", "3"), ("b", "2")])
        );
    }

    #[test]
    fn reading_stops_at_anything_unexpected() {
        assert_eq!(
            parse_bearer_challenge("Bearer a=1 b=2"),
            pairs(&[("a", "1")])
        );
        assert_eq!(
            parse_bearer_challenge("Bearer a=1,,b=2"),
            pairs(&[("a", "1")])
        );
        assert_eq!(parse_bearer_challenge("Bearer a=, b=2"), pairs(&[]));
        assert_eq!(parse_bearer_challenge("Bearer 9a=1"), pairs(&[]));
    }

    #[test]
    fn an_unterminated_quote_is_read_as_a_bare_token() {
        assert_eq!(
            parse_bearer_challenge("Bearer a=\"xy, b=2"),
            pairs(&[("a", "\"xy"), ("b", "2")])
        );
    }

    #[test]
    fn insufficient_scope_needs_that_exact_error() {
        let found = insufficient_scope(r#"Bearer error="insufficient_scope""#).unwrap();
        assert_eq!(found.missing_scopes, None);
        assert!(insufficient_scope(r#"Bearer error="INSUFFICIENT_SCOPE""#).is_none());
        assert!(insufficient_scope("").is_none());
    }

    #[test]
    fn blank_scope_means_no_missing_scopes() {
        let found = insufficient_scope("Bearer error=insufficient_scope, scope=\"  \"").unwrap();
        assert_eq!(found.missing_scopes, None);
        let found =
            insufficient_scope("Bearer error=insufficient_scope, scope=\" a\tb \"").unwrap();
        assert_eq!(
            found.missing_scopes,
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(
            found.raw,
            "Bearer error=insufficient_scope, scope=\" a\tb \""
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(header in "\\PC*|(Bearer|bearer) .*") {
            let _ = parse_bearer_challenge(&header);
            let _ = insufficient_scope(&header);
        }
    }
}
