//! The authority of a URL (`host[:port]`), checked the same way for the base URL and for
//! provider URLs.
//!
//! Only a plain host with an optional port passes: user info is a credential that would be
//! printed wherever the URL is, and an empty host, a bad port or a broken IPv6 literal would
//! be accepted here and refused (or worse, read differently) by the HTTP stack later.

use std::net::Ipv6Addr;

/// Checks `authority`; on failure says what is wrong, in words fit for an error message.
///
/// Accepted: a host made of ASCII letters, digits, `-`, `.` and `_`, or an IPv6 address in
/// brackets, then optionally `:` and a port from 1 to 65535 (ASCII digits only).
pub(crate) fn check_authority(authority: &str) -> Result<(), &'static str> {
    if authority.is_empty() {
        return Err("the host is missing");
    }
    if authority.contains('@') {
        return Err("the URL must not carry user info");
    }

    let port = if let Some(bracketed) = authority.strip_prefix('[') {
        let (address, after) = bracketed
            .split_once(']')
            .ok_or("the IPv6 address lacks its closing ']'")?;
        if address.parse::<Ipv6Addr>().is_err() {
            return Err("the IPv6 address in brackets is malformed");
        }
        match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return Err("only ':' and a port may follow the IPv6 address"),
        }
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        if host.is_empty() {
            return Err("the host is missing");
        }
        if !host.bytes().all(is_host_byte) {
            return Err("the host may only contain letters, digits, '-', '.' and '_'");
        }
        port
    };

    match port {
        Some(port) if !is_valid_port(port) => Err("the port must be a number from 1 to 65535"),
        _ => Ok(()),
    }
}

fn is_host_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_')
}

fn is_valid_port(port: &str) -> bool {
    // Five digits at most keeps the parse far from overflow.
    (1..=5).contains(&port.len())
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u32>().is_ok_and(|n| (1..=65_535).contains(&n))
}

#[cfg(test)]
mod tests {
    use super::check_authority;

    #[test]
    fn plain_hosts_and_ports_pass() {
        for ok in [
            "example.com",
            "api.example.com:443",
            "127.0.0.1:65535",
            "localhost:1",
            "my_service-1.internal",
            "[::1]",
            "[::1]:8080",
            "[2001:db8::7]:443",
        ] {
            assert_eq!(check_authority(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn empty_hosts_user_info_bad_ports_and_broken_ipv6_fail() {
        for bad in [
            "",
            ":8080",
            "user:pass@example.com",
            "127.0.0.1:80@evil.example",
            "h:99999",
            "h:65536",
            "h:0",
            "h:x",
            "h:",
            "h:+80",
            "h:000000080",
            "h:80:90",
            "[::1",
            "[::1]x",
            "[::1]:",
            "[not-ipv6]",
            "[]",
            "::1",
            "exa mple.com",
            "h%00",
            "caf\u{e9}.example",
            "{sub}.example.com",
            "evil.example\\good.example",
        ] {
            assert!(check_authority(bad).is_err(), "{bad:?} accepted");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(authority in "\\PC{0,40}") {
            let _ = check_authority(&authority);
        }
    }
}
