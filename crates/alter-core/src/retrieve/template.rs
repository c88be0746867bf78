//! Provider URL checks and path templating (PROTOCOL §6.1 step 7, §6.2).
//!
//! A provider URL may carry `{name}` placeholders filled from the caller's path parameters.
//! Each value is percent-encoded as one whole path segment, so a value can never add a
//! segment, climb out of its own (`/`, `%2F`, `../x` all stay inside it) or smuggle a query.
//! The values `.` and `..` are refused outright: they are unreserved text, so encoding leaves
//! them as they are, and URL parsers resolve such a segment (even spelled `%2E%2E`) against
//! its parent.

use crate::encoding::encode_path_segment as encode_segment;
use crate::error::{Error, Result};
use crate::limits::{MAX_ID_LEN, MAX_URL_LEN, excerpt};

/// Why a provider URL with another scheme is refused.
pub const NOT_HTTP: &str = "the provider URL must start with https:// or http://";

/// Whether `url` starts with `https://` or `http://`, in any case.
pub fn has_http_scheme(url: &str) -> bool {
    starts_with_ignore_case(url, "https://") || starts_with_ignore_case(url, "http://")
}

/// Checks the provider URL before anything else is done with it.
///
/// The URL must start with `https://` or `http://` (any case), be at most
/// [`MAX_URL_LEN`] bytes long, and may not contain a space, CR, LF or NUL: such a URL cannot
/// be sent as it is, and CR/LF could split the request. Its host is checked after
/// templating (a placeholder may fill it), by [`check_sendable_url`] or
/// [`check_provider_authority`].
///
/// # Errors
///
/// Nothing was sent in either case: [`Error::Sdk`] for a URL that is not `http(s)`, the
/// class the protocol gives retrieve mode (PROTOCOL.md §6.1 step 7); [`Error::InvalidInput`]
/// naming what else is wrong. Proxy mode checks the scheme first, as an input error
/// (§5.4), with [`has_http_scheme`].
///
/// # Example
///
/// ```
/// use alter_core::retrieve::template::check_provider_url;
///
/// assert!(check_provider_url("HTTPS://api.example.com/v1").is_ok());
/// assert!(check_provider_url("ftp://files.example.com/").is_err());
/// ```
pub fn check_provider_url(url: &str) -> Result<()> {
    if !has_http_scheme(url) {
        return Err(Error::sdk(NOT_HTTP));
    }

    check_url_length(url)?;
    if url.contains([' ', '\r', '\n', '\0']) {
        return Err(Error::invalid_input(
            "the provider URL must not contain spaces, CR, LF or NUL",
        ));
    }
    Ok(())
}

/// Checks the authority of an `http(s)://` provider URL: a plain host with an optional
/// port from 1 to 65535, or a bracketed IPv6 address. An empty host (`http:///x`), user
/// info, a bad port or a character a host name cannot have is refused, so that every HTTP
/// stack reads the same host as the token policy and the audit row.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming what is wrong; nothing was sent.
///
/// # Example
///
/// ```
/// use alter_core::retrieve::template::check_provider_authority;
///
/// assert!(check_provider_authority("https://api.example.com:8443/v1").is_ok());
/// assert!(check_provider_authority("http:///127.0.0.1:8080/x").is_err());
/// assert!(check_provider_authority("https://user:pw@api.example.com/").is_err());
/// ```
pub fn check_provider_authority(url: &str) -> Result<()> {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());

    crate::authority::check_authority(&after_scheme[..end])
        .map_err(|why| Error::invalid_input(format!("invalid provider URL: {why}")))
}

/// Checks a provider URL after templating: it must be sendable exactly as written, so that
/// every HTTP stack sends the same bytes and the audit row names what was called.
///
/// Refused: URLs over [`MAX_URL_LEN`] bytes, characters that are not allowed in a URL as is
/// (non-ASCII, controls, space, `"`, `'`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`), an
/// authority that is not a plain `host[:port]` (see [`check_provider_authority`]; this
/// refuses user info, a credential in the URL), and `.` / `..` path segments, plain or
/// percent-encoded, which HTTP stacks resolve against the parent segment (some silently,
/// some not at all).
///
/// # Errors
///
/// [`Error::InvalidInput`] naming what is wrong; percent-encode such characters first.
///
/// # Example
///
/// ```
/// use alter_core::retrieve::template::check_sendable_url;
///
/// assert!(check_sendable_url("https://api.example.com/v1/items?q=a%20b").is_ok());
/// assert!(check_sendable_url("https://api.example.com/v1/../admin").is_err());
/// assert!(check_sendable_url("https://api.example.com/v1/caf\u{e9}").is_err());
/// ```
pub fn check_sendable_url(url: &str) -> Result<()> {
    check_url_length(url)?;
    let bad = url
        .chars()
        .find(|&c| !c.is_ascii() || c.is_ascii_control() || " \"'<>\\^`{|}".contains(c));
    if let Some(c) = bad {
        return Err(Error::invalid_input(format!(
            "the provider URL contains {c:?}, which must be percent-encoded"
        )));
    }

    check_provider_authority(url)?;

    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = after_scheme
        .find(['/', '?', '#'])
        .map_or("", |at| &after_scheme[at..]);
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    let dot_segment = path.split('/').any(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    });
    if dot_segment {
        return Err(Error::invalid_input(
            "the provider URL must not contain '.' or '..' path segments",
        ));
    }
    Ok(())
}

fn check_url_length(url: &str) -> Result<()> {
    if url.len() > MAX_URL_LEN {
        return Err(Error::invalid_input(format!(
            "the provider URL is {} bytes long; the limit is {MAX_URL_LEN}",
            url.len()
        )));
    }
    Ok(())
}

/// Fills the `{name}` placeholders of `url` from `path_params`.
///
/// With no parameters the URL is returned verbatim, braces included. Otherwise every
/// `{name}` is replaced by its value encoded as a path segment (only `A-Z a-z 0-9 _ . - ~`
/// stay as they are; `/`, `%` and everything else become `%XX`), and `{{` / `}}` become
/// literal braces, sent percent-encoded (`%7B`, `%7D`). Parameters that no placeholder
/// uses are ignored.
///
/// # Errors
///
/// [`Error::InvalidInput`] when a value contains CR, LF or NUL or is longer than
/// [`MAX_ID_LEN`] bytes, when a used value is `.` or
/// `..`, or when the braces of the template do not pair up; [`Error::Sdk`] when a placeholder
/// has no value.
///
/// # Example
///
/// ```
/// use alter_core::retrieve::template::template_url;
///
/// let params = vec![("page_id".to_string(), "pg 42/α".to_string())];
/// let url = template_url("https://api.notion.com/v1/pages/{page_id}", &params)?;
/// assert_eq!(url, "https://api.notion.com/v1/pages/pg%2042%2F%CE%B1");
/// # Ok::<(), alter_core::Error>(())
/// ```
pub fn template_url(url: &str, path_params: &[(String, String)]) -> Result<String> {
    if path_params.is_empty() {
        return Ok(url.to_owned());
    }

    if path_params
        .iter()
        .any(|(_, value)| value.contains(['\r', '\n', '\0']))
    {
        return Err(Error::invalid_input(
            "path parameter values must not contain CR, LF or NUL",
        ));
    }
    if path_params
        .iter()
        .any(|(_, value)| value.len() > MAX_ID_LEN)
    {
        return Err(Error::invalid_input(format!(
            "path parameter values must be at most {MAX_ID_LEN} bytes long"
        )));
    }

    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        // Literal braces are sent percent-encoded: some HTTP stacks would encode them and
        // others send them raw, and the URL must reach the provider the same way.
        if let Some(after) = tail.strip_prefix("{{") {
            out.push_str("%7B");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push_str("%7D");
            rest = after;
        } else if let Some(after) = tail.strip_prefix('{') {
            let (name, after) = placeholder(after)?;
            let value = value_of(name, path_params)?;
            if value.is_empty() || value == "." || value == ".." {
                return Err(Error::invalid_input(format!(
                    "path parameter {} must not be empty, '.' or '..'",
                    excerpt(name)
                )));
            }
            out.push_str(&encode_segment(value));
            rest = after;
        } else {
            return Err(Error::invalid_input(
                "unmatched '}' in the provider URL template",
            ));
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Splits `{name}rest` (opening brace already consumed) into the name and what follows.
fn placeholder(after_open: &str) -> Result<(&str, &str)> {
    let close = after_open
        .find(['{', '}'])
        .filter(|&at| after_open[at..].starts_with('}'))
        .ok_or_else(|| Error::invalid_input("unmatched '{' in the provider URL template"))?;
    Ok((&after_open[..close], &after_open[close + 1..]))
}

fn value_of<'a>(name: &str, path_params: &'a [(String, String)]) -> Result<&'a str> {
    path_params
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .ok_or_else(|| {
            Error::sdk(format!(
                "no value for path placeholder {{{}}}",
                excerpt(name)
            ))
        })
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod sendable_tests {
    use super::check_sendable_url;

    #[test]
    fn urls_every_http_stack_sends_alike_pass() {
        for url in [
            "https://api.example.com",
            "https://api.example.com/v1/items?q=a%20b&x=1#frag",
            "http://127.0.0.1:8080/echo/a.b/..c/.d",
            "https://api.example.com/v1/pages/pg%2042%2F%CE%B1",
        ] {
            assert!(check_sendable_url(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn urls_that_stacks_rewrite_or_refuse_are_input_errors() {
        for url in [
            "https://api.example.com/a/../b",
            "https://api.example.com/a/./b",
            "https://api.example.com/a/%2e%2E/b",
            "https://api.example.com/a\\b",
            "https://api.example.com/\"quoted\"",
            "https://api.example.com/<tag>",
            "https://api.example.com/x?q=a'b",
            "https://api.example.com/caf\u{e9}",
            "https://api.example.com/a b",
            "https://api.example.com/tab\there",
            "https://user:pass@api.example.com/",
            "https://api.example.com/{id}",
            "http:///127.0.0.1:8080/x",
            "https:///x",
            "https://",
            "https://:443/x",
            "https://api.example.com:99999/x",
            "https://api.example.com:x/x",
            "http://[::1/x",
            "https://a%00b/x",
        ] {
            let error = check_sendable_url(url).unwrap_err();
            assert_eq!(error.class_name(), "AlterValueError", "{url}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn without_params_the_url_is_verbatim() {
        let url = "https://h/{not_a_param}/{{x}}";
        assert_eq!(template_url(url, &[]).unwrap(), url);
    }

    #[test]
    fn values_are_encoded_as_whole_segments() {
        let url = "https://h/a/{id}/b";
        let cases = [
            ("...", "https://h/a/.../b"),
            ("..x", "https://h/a/..x/b"),
            ("../../etc", "https://h/a/..%2F..%2Fetc/b"),
            ("x/y", "https://h/a/x%2Fy/b"),
            ("%2F", "https://h/a/%252F/b"),
            ("a?b#c", "https://h/a/a%3Fb%23c/b"),
            ("a b+c", "https://h/a/a%20b%2Bc/b"),
            ("ü", "https://h/a/%C3%BC/b"),
        ];
        for (value, expected) in cases {
            assert_eq!(
                template_url(url, &params(&[("id", value)])).unwrap(),
                expected
            );
        }
    }

    #[test]
    fn the_conformance_value_is_encoded_like_the_reference() {
        // Vector app.request.headers_context_pathparams.
        let url = "http://127.0.0.1:41709/provider/notion/v1/pages/{page_id}";
        assert_eq!(
            template_url(url, &params(&[("page_id", "pg 42/α")])).unwrap(),
            "http://127.0.0.1:41709/provider/notion/v1/pages/pg%2042%2F%CE%B1"
        );
    }

    #[test]
    fn doubled_braces_are_literal_and_repeated_placeholders_are_filled() {
        let url = "https://h/{{lit}}/{a}/{a}/}}";
        assert_eq!(
            template_url(url, &params(&[("a", "1"), ("unused", "2")])).unwrap(),
            { "https://h/%7Blit%7D/1/1/%7D" }
        );
    }

    #[test]
    fn a_missing_value_is_an_sdk_error() {
        let error = template_url("https://h/{a}/{b}", &params(&[("a", "1")])).unwrap_err();
        assert!(matches!(error, Error::Sdk { .. }), "{error:?}");
    }

    #[test]
    fn unpaired_braces_are_rejected() {
        for url in ["https://h/{a", "https://h/a}", "https://h/{a{b}"] {
            let error = template_url(url, &params(&[("a", "1")])).unwrap_err();
            assert!(
                matches!(error, Error::InvalidInput { .. }),
                "{url}: {error:?}"
            );
        }
    }

    #[test]
    fn dot_segments_are_rejected() {
        for value in [".", ".."] {
            let error = template_url("https://h/a/{v}/b", &params(&[("v", value)])).unwrap_err();
            assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
        }
    }

    #[test]
    fn control_characters_in_values_are_rejected() {
        for value in ["a\rb", "a\nb", "a\0b"] {
            let error = template_url("https://h/{a}", &params(&[("a", value)])).unwrap_err();
            assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
        }
    }

    #[test]
    fn provider_urls_need_an_http_scheme_and_fail_as_sdk_errors_before_io() {
        assert!(check_provider_url("https://h/x").is_ok());
        assert!(check_provider_url("Http://h/x").is_ok());
        for url in [
            "ftp://h/x",
            "h/x",
            "",
            "https:/h",
            "httpx://h",
            "file:///etc/passwd",
        ] {
            let error = check_provider_url(url).unwrap_err();

            assert!(matches!(error, Error::Sdk { .. }), "{url}");
            assert!(!has_http_scheme(url), "{url}");
        }
    }

    #[test]
    fn provider_authorities_must_be_plain_hosts() {
        for url in [
            "https://api.example.com/v1",
            "http://127.0.0.1:8080/x",
            "https://[::1]:8443",
            "https://api.example.com?q=1",
        ] {
            assert!(check_provider_authority(url).is_ok(), "{url}");
        }
        for url in [
            "http:///127.0.0.1:8080/x",
            "https://?q=1",
            "https://u@h/",
            "https://h:65536/",
            "https://{sub}.example.com/",
        ] {
            let error = check_provider_authority(url).unwrap_err();
            assert!(matches!(error, Error::InvalidInput { .. }), "{url}");
        }
    }

    #[test]
    fn oversized_urls_and_values_are_input_errors_with_short_messages() {
        let long_url = format!("https://h/{}", "a".repeat(MAX_URL_LEN));
        for error in [
            check_provider_url(&long_url).unwrap_err(),
            check_sendable_url(&long_url).unwrap_err(),
            template_url(
                "https://h/{v}",
                &params(&[("v", &"a".repeat(MAX_ID_LEN + 1))]),
            )
            .unwrap_err(),
        ] {
            assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
            assert!(error.to_string().len() < 200, "{error}");
        }
        let at_limit = "a".repeat(MAX_ID_LEN);
        assert!(template_url("https://h/{v}", &params(&[("v", &at_limit)])).is_ok());

        let long_name = format!("https://h/{{{}}}", "n".repeat(10_000));
        let error = template_url(&long_name, &params(&[("other", "1")])).unwrap_err();
        assert!(
            error.to_string().len() < 300,
            "{} bytes",
            error.to_string().len()
        );
    }

    #[test]
    fn provider_urls_reject_request_splitting_characters() {
        for url in ["https://h/a b", "https://h/a\r\nX: y", "https://h/\0"] {
            assert!(
                matches!(check_provider_url(url), Err(Error::InvalidInput { .. })),
                "{url:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn a_value_never_escapes_its_segment(value in "\\PC*") {
            proptest::prop_assume!(!value.contains(['\r', '\n', '\0']));
            proptest::prop_assume!(!value.is_empty() && value != "." && value != "..");
            let url = template_url("https://h/a/{v}/b", &params(&[("v", &value)])).unwrap();
            let inner = url.strip_prefix("https://h/a/").unwrap().strip_suffix("/b").unwrap();
            let escaped = !inner.contains(['/', '?', '#', '{', '}']);
            proptest::prop_assert!(escaped, "{}", url);
            proptest::prop_assert!(inner.bytes().all(|b| b.is_ascii_graphic()));
        }
    }
}
