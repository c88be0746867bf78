//! The `bearer_challenge` target: the RFC 6750 `WWW-Authenticate` parser.

use alter_core::retrieve::challenge::{insufficient_scope, parse_bearer_challenge};

/// Parses the input (read as UTF-8, invalid bytes replaced) as a `WWW-Authenticate` value.
///
/// Checked, besides "no panic": parameter names are lower-case, unique and match
/// `[a-z_][a-z0-9_-]*`; writing the parameters back as a `Bearer` challenge of quoted
/// strings parses to the same list; `insufficient_scope` answers exactly when `error` is
/// `insufficient_scope`, keeps the header as received, and never reports a blank scope list.
pub fn bearer_challenge(data: &[u8]) {
    let header = String::from_utf8_lossy(data);

    let params = parse_bearer_challenge(&header);
    for (at, (name, _)) in params.iter().enumerate() {
        assert!(is_param_name(name), "bad name {name:?}");
        assert!(
            params[..at].iter().all(|(earlier, _)| earlier != name),
            "repeated name {name:?}"
        );
    }

    let rewritten = write_challenge(&params);
    assert_eq!(parse_bearer_challenge(&rewritten), params, "{rewritten:?}");

    let error = params.iter().find(|(name, _)| name == "error");
    let says_insufficient = error.is_some_and(|(_, value)| value == "insufficient_scope");
    match insufficient_scope(&header) {
        Some(challenge) => {
            assert!(says_insufficient);
            assert_eq!(challenge.raw, header);
            if let Some(scopes) = &challenge.missing_scopes {
                assert!(!scopes.is_empty());
                assert!(
                    scopes
                        .iter()
                        .all(|s| !s.is_empty() && !s.contains(char::is_whitespace))
                );
            }
        }
        None => assert!(!says_insufficient),
    }
}

/// Whether `name` is a lower-cased parameter name of the grammar.
fn is_param_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// A `Bearer` challenge carrying `params`, every value as a quoted string.
pub(crate) fn write_challenge(params: &[(String, String)]) -> String {
    let quoted: Vec<String> = params
        .iter()
        .map(|(name, value)| {
            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
            format!("{name}=\"{escaped}\"")
        })
        .collect();
    format!("Bearer {}", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_pass_the_checks() {
        for header in [
            r#"Bearer error="insufficient_scope", scope="a b""#,
            r#"Bearer realm=x,error=invalid_token, Basic realm="y""#,
            r#"  bearer ERROR="insufficient_scope",scope="  ", Scope=z"#,
            r#"Bearer a="\"q\" \\ done", b=""#,
            "Basic realm=x",
            "Bearer",
            "",
        ] {
            bearer_challenge(header.as_bytes());
        }
    }

    #[test]
    fn written_challenges_escape_quotes_and_backslashes() {
        let params = vec![("a".to_owned(), r#"x"y\z"#.to_owned())];

        assert_eq!(write_challenge(&params), r#"Bearer a="x\"y\\z""#);
        assert_eq!(parse_bearer_challenge(&write_challenge(&params)), params);
    }
}
