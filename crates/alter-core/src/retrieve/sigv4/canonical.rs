//! The URL pieces of a SigV4 canonical request: host, path and query.
//!
//! Everything here works on the *wire* form of the URL, the exact bytes that will be sent.
//! The wire form is fixed first (every byte outside the unreserved set and `/` written as
//! `%XX`), so no HTTP library can re-encode or re-order what was signed (§16 D1-D3).

use crate::encoding::encode_path_segment as encode_segment;
use crate::encoding::{escaped_byte, is_unreserved, percent_decode_lossy};
use crate::error::{Error, Result};

/// A provider URL split into the parts SigV4 needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct UrlParts<'a> {
    /// `http` or `https`, lower-case.
    pub(super) scheme: &'static str,
    /// Host name or bracketed IPv6 literal, lower-case, without port.
    pub(super) host: String,
    /// Explicit port, if the URL has one.
    pub(super) port: Option<u16>,
    /// Path as written, up to `?` or `#`.
    pub(super) path: &'a str,
    /// Query as written, without `?`, up to `#`.
    pub(super) query: &'a str,
}

impl UrlParts<'_> {
    /// `host[:port]`, the port left out when it is the scheme's default (§16 D1: 80 for
    /// http, 443 for https, and nothing else).
    pub(super) fn authority(&self) -> String {
        let default = match self.scheme {
            "http" => 80,
            _ => 443,
        };
        match self.port {
            Some(port) if port != default => format!("{}:{port}", self.host),
            _ => self.host.clone(),
        }
    }
}

/// Splits an absolute `http(s)` URL; any fragment is dropped.
pub(super) fn split_url(url: &str) -> Result<UrlParts<'_>> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| Error::invalid_input("URL has no scheme"))?;
    let scheme = if scheme.eq_ignore_ascii_case("https") {
        "https"
    } else if scheme.eq_ignore_ascii_case("http") {
        "http"
    } else {
        return Err(Error::invalid_input("a SigV4 URL must be http or https"));
    };

    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(authority_end);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (host, port) = split_authority(authority)?;

    Ok(UrlParts {
        scheme,
        host,
        port,
        path,
        query,
    })
}

fn split_authority(authority: &str) -> Result<(String, Option<u16>)> {
    if authority.contains('@') {
        return Err(Error::invalid_input(
            "a SigV4 URL must not carry user information",
        ));
    }

    let (host, port) = if authority.starts_with('[') {
        let close = authority
            .find(']')
            .ok_or_else(|| Error::invalid_input("unterminated IPv6 literal in URL"))?;
        let (host, after) = authority.split_at(close + 1);
        let port = match after {
            "" => "",
            _ => after
                .strip_prefix(':')
                .ok_or_else(|| Error::invalid_input("unexpected text after IPv6 literal"))?,
        };
        (host, port)
    } else {
        authority.split_once(':').unwrap_or((authority, ""))
    };

    // Only characters every URL parser reads the same way, so the host signed is the host
    // the HTTP client connects to and names in its `Host` header.
    let plain = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(ip) => {
            !ip.is_empty()
                && ip
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        }
        None => {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        }
    };
    if !plain {
        return Err(Error::invalid_input(
            "a SigV4 URL needs a plain ASCII host name",
        ));
    }
    let port = match port {
        "" => None,
        digits if digits.bytes().all(|b| b.is_ascii_digit()) => Some(
            digits
                .parse::<u16>()
                .map_err(|_| Error::invalid_input("URL port out of range"))?,
        ),
        _ => return Err(Error::invalid_input("URL port is not a number")),
    };
    Ok((host.to_ascii_lowercase(), port))
}

/// The path as it goes on the wire: unreserved bytes and `/` as they are; an existing
/// `%XX` escape kept (upper-case hex), or decoded when it stands for an unreserved byte
/// (RFC 3986 §6.2.2.2, which also turns `%2E` into the dot it is); every other byte as
/// `%XX`. An empty path is `/`.
pub(super) fn wire_path(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }

    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let (byte, width) = match escaped_byte(bytes, i) {
            Some(byte) => (byte, 3),
            None => (bytes[i], 1),
        };
        if is_unreserved(byte) || (byte == b'/' && width == 1) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
        i += width;
    }
    out
}

/// Removes `.` and `..` segments and empty segments, as AWS does for every service but S3
/// (RFC 3986 §5.2.4); a trailing slash survives.
pub(super) fn normalize_path(path: &str) -> String {
    if !path.contains("/.") && !path.contains("//") {
        return path.to_owned();
    }

    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }

    let mut out = format!("/{}", segments.join("/"));
    let trailing = ["/", "/.", "/.."].iter().any(|end| path.ends_with(end));
    if trailing && !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// The canonical URI of a wire path: for S3 the wire path itself; for every other service
/// the normalised path with each segment encoded once more, so `%20` signs as `%2520`
/// (AWS's rule for non-S3 services, §16 D2).
pub(super) fn canonical_uri(wire: &str, is_s3: bool) -> String {
    if is_s3 {
        return wire.to_owned();
    }
    normalize_path(wire)
        .split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

/// The query's `name=value` pairs re-encoded AWS's way, in their original order.
///
/// Pairs split on `&` (empty ones dropped), then at the first `=`; each side form-decoded
/// (`+` is a space, `%XX` a byte, invalid UTF-8 replaced) and encoded again with only the
/// unreserved set kept, so a space is `%20` and a plus `%2B`.
pub(super) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (reencode(name), reencode(value))
        })
        .collect()
}

/// The canonical query string: the encoded pairs sorted by name, then value.
pub(super) fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut sorted = pairs.to_vec();
    sorted.sort();
    join_pairs(&sorted)
}

/// `name=value` pairs joined with `&`.
pub(super) fn join_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn reencode(text: &str) -> String {
    encode_segment(&percent_decode_lossy(&text.replace('+', " ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_port_path_and_query() {
        let parts = split_url("HTTPS://Example.COM:8443/a%20b/c?x=1&y#frag").unwrap();
        assert_eq!(
            parts,
            UrlParts {
                scheme: "https",
                host: "example.com".into(),
                port: Some(8443),
                path: "/a%20b/c",
                query: "x=1&y",
            }
        );

        let parts = split_url("http://[::1]:80?q").unwrap();
        assert_eq!(
            (parts.host.as_str(), parts.port, parts.path, parts.query),
            ("[::1]", Some(80), "", "q")
        );
    }

    #[test]
    fn bad_urls_are_input_errors() {
        for url in [
            "example.com/x",
            "ftp://h/",
            "https:///x",
            "https://user:pw@h/",
            "https://h:99999/",
            "https://h:8a/",
            "https://[::1/",
            "https://[::1]x/",
            "https://hö.example/",
            "https://h\\evil/",
            "https://[]/",
            "https://[::1%eth0]/",
        ] {
            assert!(
                matches!(split_url(url), Err(Error::InvalidInput { .. })),
                "{url}"
            );
        }
    }

    #[test]
    fn default_ports_are_dropped_only_for_their_own_scheme() {
        let authority = |url| split_url(url).unwrap().authority();
        assert_eq!(authority("https://h:443/"), "h");
        assert_eq!(authority("http://h:80/"), "h");
        assert_eq!(authority("http://h:443/"), "h:443");
        assert_eq!(authority("https://h:80/"), "h:80");
        assert_eq!(authority("https://h:8443/"), "h:8443");
        assert_eq!(authority("https://h:0443/"), "h");
        assert_eq!(authority("https://h:/"), "h");
    }

    #[test]
    fn wire_path_encodes_everything_but_unreserved_and_slash() {
        assert_eq!(wire_path(""), "/");
        assert_eq!(wire_path("/my-bucket/a b.txt"), "/my-bucket/a%20b.txt");
        assert_eq!(
            wire_path("/a%20b/%2f/%7e/%2E%2e/ü/50%/+:@"),
            "/a%20b/%2F/~/../%C3%BC/50%25/%2B%3A%40"
        );
        assert_eq!(wire_path("/a\\b"), "/a%5Cb");
    }

    #[test]
    fn normalisation_removes_dot_and_empty_segments() {
        let cases = [
            ("/", "/"),
            ("/a/b", "/a/b"),
            ("/a/./b/../c", "/a/c"),
            ("/../a", "/a"),
            ("//a//b/", "/a/b/"),
            ("/a/b/.", "/a/b/"),
            ("/a/b/..", "/a/"),
            ("/a.b/.c", "/a.b/.c"),
        ];
        for (path, expected) in cases {
            assert_eq!(normalize_path(path), expected, "{path}");
        }
    }

    #[test]
    fn non_s3_services_encode_the_wire_path_again() {
        assert_eq!(canonical_uri("/a%20b/../c", false), "/c");
        assert_eq!(canonical_uri("/a%20b/c", false), "/a%2520b/c");
        assert_eq!(canonical_uri("/a%20b/../c", true), "/a%20b/../c");
    }

    #[test]
    fn query_pairs_are_form_decoded_and_aws_encoded() {
        let pairs = query_pairs("prefix=x+y&a=1&&flag&e=&=v&s=%2B%20%zz&k=a=b");
        assert_eq!(
            join_pairs(&pairs),
            "prefix=x%20y&a=1&flag=&e=&=v&s=%2B%20%25zz&k=a%3Db"
        );
        assert_eq!(
            canonical_query(&pairs),
            "=v&a=1&e=&flag=&k=a%3Db&prefix=x%20y&s=%2B%20%25zz"
        );
    }

    #[test]
    fn canonical_query_sorts_encoded_names_then_values() {
        let pairs = query_pairs("b=2&a=2&a=1&~=x&!=y");
        assert_eq!(canonical_query(&pairs), "%21=y&a=1&a=2&b=2&~=x");
    }
}
