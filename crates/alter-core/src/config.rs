//! Client configuration: base URL, API key, caller label and id checks (PROTOCOL.md §1, §12).
//!
//! Everything here validates caller input before any request exists, so a bad value fails
//! at construction with a typed error instead of on the wire.
//!
//! ```
//! use alter_core::config::{ApiKey, BaseUrl};
//!
//! let base = BaseUrl::parse("https://vault.example.com/prefix/")?;
//! assert_eq!(base.join("/sdk/scopes"), "https://vault.example.com/prefix/sdk/scopes");
//!
//! let key = ApiKey::parse("alter_rk_abcdefghijklmnopqrstuv_iwpykn")?;
//! assert_eq!(key.key_type(), Some("rk"));
//! assert_eq!(format!("{key:?}"), "ApiKey(alter_rk_…)");
//! # Ok::<(), alter_core::Error>(())
//! ```

use std::fmt;

use crate::authority::check_authority;
use crate::error::{Error, Result};
use crate::io::redact_urls;
use crate::limits::{MAX_BASE_URL_LEN, excerpt};

/// The production backend, used when neither an override nor [`ENV_BASE_URL`] is set.
pub const DEFAULT_BASE_URL: &str = "https://backend.alterauth.com";
/// Environment variable that overrides the base URL.
pub const ENV_BASE_URL: &str = "ALTER_BASE_URL";
/// Environment variable that conventionally holds the API key.
pub const ENV_API_KEY: &str = "ALTER_API_KEY";

/// The prefix of legacy keys, which carry no type and no checksum.
const LEGACY_PREFIX: &str = "alter_key_";
/// The key types of scoped keys: root/app, agent, derived, and `pk`.
const KEY_TYPES: [&str; 4] = ["rk", "ak", "dk", "pk"];
/// The alphabet of the six-character checksum (§1.2).
const CHECKSUM_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// Hosts for which plain `http` is allowed.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// A validated backend base URL (§1.1).
///
/// `https` is always allowed; plain `http` only for a loopback host (`localhost`,
/// `127.0.0.1`, `::1` written `[::1]`), which is meant for local development and tests.
/// Trailing slashes are removed. A path after the host is a mount prefix: requests go to
/// `prefix + /sdk/…` while the signature covers `/sdk/…` alone.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl {
    url: String,
    /// Byte offset where the path prefix starts (the length of the origin).
    origin_len: usize,
    plain_http: bool,
}

impl BaseUrl {
    /// Validates and normalizes a base URL.
    ///
    /// # Errors
    ///
    /// [`Error::Sdk`] when the scheme is neither `https` nor loopback `http`; when the host
    /// is missing or has characters a host name cannot have; when a port is not a number
    /// from 1 to 65535 or an IPv6 literal is malformed; when the URL carries user info,
    /// whitespace, control characters, a query or a fragment; or when it is longer than
    /// [`MAX_BASE_URL_LEN`] bytes. For plain `http` the authority must be exactly a loopback
    /// host and an optional port, so `http://127.0.0.1:80@example.com` is refused. The
    /// message repeats at most the first 200 characters of the URL, without its user info,
    /// query or fragment.
    ///
    /// ```
    /// use alter_core::config::BaseUrl;
    ///
    /// assert!(BaseUrl::parse("https://vault.example.com:8443").is_ok());
    /// assert!(BaseUrl::parse("http://127.0.0.1:99999").is_err());
    /// assert!(BaseUrl::parse("https://[::1").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<Self> {
        // The URL is quoted without what may be a credential: user info, a query.
        let shown = excerpt(&redact_urls(url));
        let rejected = |why: &str| Error::sdk(format!("invalid base URL {shown:?}: {why}"));

        if url.len() > MAX_BASE_URL_LEN {
            return Err(rejected("it is longer than the 2048-byte limit"));
        }
        if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(rejected("it contains whitespace or control characters"));
        }
        if url.contains(['?', '#']) {
            return Err(rejected("a base URL cannot have a query or fragment"));
        }

        // The scheme is split off before trailing slashes are trimmed, so that `https://`
        // reads as a URL without a host rather than as the unknown scheme `https:`.
        let (plain_http, rest) = if let Some(rest) = strip_prefix_ignore_case(url, "https://") {
            (false, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(url, "http://") {
            (true, rest)
        } else {
            return Err(rejected(
                "the scheme must be https (or http for a loopback host)",
            ));
        };
        let scheme = &url[..url.len() - rest.len()];
        let rest = rest.trim_end_matches('/');

        let authority = rest.split('/').next().unwrap_or_default();
        check_authority(authority).map_err(rejected)?;
        if plain_http && !is_loopback_authority(authority) {
            return Err(rejected(
                "plain http is only allowed for localhost, 127.0.0.1 and [::1]",
            ));
        }

        Ok(Self {
            url: format!("{scheme}{rest}"),
            origin_len: scheme.len() + authority.len(),
            plain_http,
        })
    }

    /// The normalized URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// `scheme://authority`, without any path prefix.
    pub fn origin(&self) -> &str {
        self.url.get(..self.origin_len).unwrap_or(&self.url)
    }

    /// The mount prefix: `""`, or a path such as `/prefix` without a trailing slash.
    pub fn path_prefix(&self) -> &str {
        self.url.get(self.origin_len..).unwrap_or_default()
    }

    /// Whether the URL uses plain `http` (loopback only); callers may warn about it.
    pub fn is_plain_http(&self) -> bool {
        self.plain_http
    }

    /// The full URL of `path`, which should start with `/` (e.g. `/sdk/token`).
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BaseUrl").field(&self.url).finish()
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// An API key that passed the construction-time format check (§1.2).
///
/// Its `Debug` output shows only the non-secret prefix (`ApiKey(alter_rk_…)`) and it has no
/// `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    secret: String,
}

impl ApiKey {
    /// Checks the key's format cheaply, without verifying the checksum.
    ///
    /// Accepted: legacy keys `alter_key_…`, and scoped keys `alter_<type>_…` whose type is
    /// `rk`, `ak`, `dk` or `pk`. Use [`is_valid_key`] for the full check with checksum.
    ///
    /// # Errors
    ///
    /// [`Error::Sdk`] when the key is empty or fits neither form, or when it contains a
    /// character outside visible ASCII, which could not travel in the `x-api-key` header.
    /// The message never includes the key.
    pub fn parse(key: &str) -> Result<Self> {
        if key.is_empty() {
            return Err(Error::sdk("the API key is empty"));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::sdk(
                "the API key contains characters outside visible ASCII",
            ));
        }
        if !key.starts_with(LEGACY_PREFIX) && scoped_key_type(key).is_none() {
            return Err(Error::sdk(
                "invalid API key format: expected alter_key_… or alter_<rk|ak|dk|pk>_…",
            ));
        }

        Ok(Self {
            secret: key.to_owned(),
        })
    }

    /// The key itself, for the `x-api-key` header and for deriving the signing key.
    ///
    /// # Security
    ///
    /// This is a bearer credential. Never log it, print it or put it anywhere except the
    /// `x-api-key` header of requests to the configured backend.
    pub fn expose_secret(&self) -> &str {
        &self.secret
    }

    /// The key type of a scoped key (`rk`, `ak`, `dk` or `pk`); `None` for a legacy key.
    pub fn key_type(&self) -> Option<&str> {
        if self.secret.starts_with(LEGACY_PREFIX) {
            return None;
        }
        scoped_key_type(&self.secret)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key_type() {
            Some(key_type) => write!(f, "ApiKey(alter_{key_type}_…)"),
            None => write!(f, "ApiKey({LEGACY_PREFIX}…)"),
        }
    }
}

/// Whether `candidate` is a well-formed API key, including its checksum (§1.2).
///
/// Never fails: malformed input is simply `false`.
///
/// ```
/// use alter_core::config::is_valid_key;
///
/// assert!(is_valid_key("alter_rk_abcdefghijklmnopqrstuv_iwpykn"));
/// assert!(!is_valid_key("alter_rk_abcdefghijklmnopqrstuv_iwpykm"));
/// assert!(is_valid_key("alter_key_x"));
/// ```
pub fn is_valid_key(candidate: &str) -> bool {
    if let Some(body) = candidate.strip_prefix(LEGACY_PREFIX) {
        return !body.is_empty();
    }

    let parts: Vec<&str> = candidate.split('_').collect();
    let [prefix, key_type, random, checksum] = parts.as_slice() else {
        return false;
    };

    *prefix == "alter"
        && KEY_TYPES.contains(key_type)
        && random.chars().count() == 22
        && checksum.chars().count() == 6
        && key_checksum(key_type, random) == *checksum
}

/// Checks a caller label: 1 to 255 characters, each printable ASCII (0x20–0x7E).
///
/// # Errors
///
/// [`Error::Sdk`] when the label is empty, too long or has any other character.
pub fn validate_caller(caller: &str) -> Result<()> {
    if caller.is_empty() || caller.len() > 255 {
        return Err(Error::sdk("caller must be 1 to 255 characters long"));
    }
    if !caller.bytes().all(|b| matches!(b, 0x20..=0x7e)) {
        return Err(Error::sdk(
            "caller may only contain printable ASCII characters",
        ));
    }
    Ok(())
}

/// The canonical lower-case hyphenated form of a UUID, or `None` if `s` is not one.
///
/// Accepts the RFC 4122 text forms: hyphenated, 32 bare hex digits, braced and `urn:uuid:`,
/// in either case.
///
/// ```
/// use alter_core::config::canonical_uuid;
///
/// assert_eq!(
///     canonical_uuid("{3F2B8C1A-5D4E-4F6A-9B7C-8D9E0F1A2B3C}").as_deref(),
///     Some("3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c")
/// );
/// assert_eq!(canonical_uuid("not-a-uuid"), None);
/// ```
///
/// # Limitations
///
/// Hyphens must sit at the standard positions; the reference client also accepts hyphens
/// anywhere among the 32 digits.
pub fn canonical_uuid(s: &str) -> Option<String> {
    uuid::Uuid::try_parse(s)
        .ok()
        .map(|id| id.hyphenated().to_string())
}

/// The type of a scoped key per the constructor rule: split on `_` at most twice, the
/// first part is `alter` and the second a known type.
fn scoped_key_type(key: &str) -> Option<&str> {
    let mut parts = key.splitn(3, '_');
    let (Some("alter"), Some(key_type), Some(_)) = (parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    KEY_TYPES.contains(&key_type).then_some(key_type)
}

/// The six-character checksum of a scoped key `alter_<type>_<random>_<checksum>`
/// (PROTOCOL.md §1.2): CRC-32 of `type:random`, five bits at a time from the least
/// significant end, in the alphabet `a-z2-7`. [`is_valid_key`] checks it; fake backends use
/// this to mint keys that pass.
///
/// ```
/// assert_eq!(alter_core::config::key_checksum("rk", "abcdefghijklmnopqrstuv"), "iwpykn");
/// ```
pub fn key_checksum(key_type: &str, random: &str) -> String {
    let crc = crc32fast::hash(format!("{key_type}:{random}").as_bytes());

    (0..6)
        .map(|i| char::from(CHECKSUM_ALPHABET[((crc >> (5 * i)) & 31) as usize]))
        .collect()
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        text.get(prefix.len()..)
    } else {
        None
    }
}

/// Whether an authority is a loopback host with an optional numeric port.
fn is_loopback_authority(authority: &str) -> bool {
    let (host, after_host) = match authority.find(']') {
        Some(end) if authority.starts_with('[') => authority.split_at(end + 1),
        _ => authority
            .find(':')
            .map_or((authority, ""), |colon| authority.split_at(colon)),
    };
    let port_ok = match after_host.strip_prefix(':') {
        Some(port) => port.bytes().all(|b| b.is_ascii_digit()),
        None => after_host.is_empty(),
    };

    port_ok
        && LOOPBACK_HOSTS
            .iter()
            .any(|loopback| host.eq_ignore_ascii_case(loopback))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn base_url_accepts_https_and_strips_slashes() {
        let base = BaseUrl::parse("HTTPS://vault.example.com//").unwrap();
        assert_eq!(base.as_str(), "HTTPS://vault.example.com");
        assert_eq!(base.origin(), "HTTPS://vault.example.com");
        assert_eq!(base.path_prefix(), "");
        assert!(!base.is_plain_http());
        assert_eq!(
            base.join("/sdk/token"),
            "HTTPS://vault.example.com/sdk/token"
        );
        assert_eq!(
            BaseUrl::parse(DEFAULT_BASE_URL).unwrap().as_str(),
            DEFAULT_BASE_URL
        );
    }

    #[test]
    fn base_url_splits_a_path_prefix() {
        let base = BaseUrl::parse("https://h.example:8443/mount/v1/").unwrap();
        assert_eq!(base.origin(), "https://h.example:8443");
        assert_eq!(base.path_prefix(), "/mount/v1");
        assert_eq!(
            base.join("/sdk/scopes"),
            "https://h.example:8443/mount/v1/sdk/scopes"
        );
        assert_eq!(base.to_string(), "https://h.example:8443/mount/v1");
    }

    #[test]
    fn plain_http_only_on_loopback() {
        for ok in [
            "http://localhost",
            "http://localhost:8000/",
            "HTTP://LOCALHOST:8000/prefix",
            "http://127.0.0.1:41709",
            "http://[::1]",
            "http://[::1]:8000/x",
        ] {
            let base = BaseUrl::parse(ok).unwrap_or_else(|err| panic!("{ok}: {err}"));
            assert!(base.is_plain_http(), "{ok}");
        }
        assert_eq!(
            BaseUrl::parse("http://[::1]:8000/x").unwrap().origin(),
            "http://[::1]:8000"
        );

        for bad in [
            "http://example.com",
            "http://127.0.0.2",
            "http://localhost.example.com",
            "http://127.0.0.1:80@example.com",
            "http://localhost:80x",
            "http://[::2]:80",
            "http://[::1",
            "http://[::1]x",
            "http://::1",
        ] {
            assert!(
                matches!(BaseUrl::parse(bad), Err(Error::Sdk { .. })),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn base_url_rejects_other_shapes() {
        for bad in [
            "",
            "/",
            "ftp://example.com",
            "example.com",
            "https://",
            "https:///path",
            "https://exa mple.com",
            "https://example.com/\n",
            "https://example.com/?q=1",
            "https://example.com#frag",
        ] {
            assert!(
                matches!(BaseUrl::parse(bad), Err(Error::Sdk { .. })),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn a_refused_base_url_is_quoted_without_its_credentials() {
        for bad in [
            "https://bob:s3cret-pw@vault.example.com",
            "http://s3cret-pw@127.0.0.1:80@example.com",
            "https://vault.example.com/?api_key=s3cret-pw",
            "ftp://bob:s3cret-pw@vault.example.com",
        ] {
            let error = BaseUrl::parse(bad).unwrap_err();

            assert!(!error.to_string().contains("s3cret"), "{error}");
            assert!(!format!("{error:?}").contains("s3cret"), "{error:?}");
        }
    }

    #[test]
    fn base_url_rejects_ports_ipv6_and_hosts_the_http_stack_would_refuse() {
        for bad in [
            "http://127.0.0.1:99999",
            "https://h:x",
            "https://h:",
            "https://h:0",
            "https://h:65536/prefix",
            "https://[::1",
            "https://[::1]:99999",
            "https://[zz::1]",
            "https://exa%6Dple.com",
            "https://caf\u{e9}.example",
            "https://user@vault.example.com",
        ] {
            assert!(
                matches!(BaseUrl::parse(bad), Err(Error::Sdk { .. })),
                "{bad:?} accepted"
            );
        }
        assert_eq!(
            BaseUrl::parse("https://[2001:db8::7]:8443/v1")
                .unwrap()
                .origin(),
            "https://[2001:db8::7]:8443"
        );
        assert!(BaseUrl::parse("https://h:65535").is_ok());
    }

    #[test]
    fn a_base_url_without_a_host_says_the_host_is_missing() {
        for bad in ["https://", "https:///", "HTTP://", "https:///path"] {
            let message = BaseUrl::parse(bad).unwrap_err().to_string();

            assert!(message.contains("the host is missing"), "{bad}: {message}");
            assert!(!message.contains("scheme"), "{bad}: {message}");
        }
    }

    #[test]
    fn long_base_urls_fail_with_a_short_message() {
        let long = format!("https://{}.example", "a".repeat(60_000));

        let message = BaseUrl::parse(&long).unwrap_err().to_string();

        assert!(message.len() < 400, "{} bytes", message.len());
        assert!(message.contains('…'));
    }

    #[test]
    fn api_key_constructor_rule() {
        for ok in [
            "alter_key_x",
            "alter_key_",
            "alter_rk_a",
            "alter_ak_a_b_c",
            "alter_dk_",
            "alter_pk_z",
        ] {
            assert!(ApiKey::parse(ok).is_ok(), "{ok} rejected");
        }
        for bad in [
            "",
            "alter_rk",
            "alter_xk_abc",
            "alter__x",
            "key_rk_abc",
            "ALTER_rk_abc",
            "alter_rk_a b",
            "alter_rk_é",
        ] {
            assert!(
                matches!(ApiKey::parse(bad), Err(Error::Sdk { .. })),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn api_key_type_and_redaction() {
        let scoped = ApiKey::parse("alter_ak_k3j5m7n9p2q4r6s8t0v1w3_zarmg5").unwrap();
        assert_eq!(scoped.key_type(), Some("ak"));
        assert_eq!(
            scoped.expose_secret(),
            "alter_ak_k3j5m7n9p2q4r6s8t0v1w3_zarmg5"
        );
        assert_eq!(format!("{scoped:?}"), "ApiKey(alter_ak_…)");

        let legacy = ApiKey::parse("alter_key_rk_secret").unwrap();
        assert_eq!(legacy.key_type(), None);
        assert_eq!(format!("{legacy:?}"), "ApiKey(alter_key_…)");
    }

    #[test]
    fn api_key_errors_never_echo_the_key() {
        let err = ApiKey::parse("alter_zz_supersecretvalue").unwrap_err();
        assert!(!err.to_string().contains("supersecret"), "{err}");
    }

    #[test]
    fn full_validator_vectors() {
        assert_eq!(key_checksum("rk", "abcdefghijklmnopqrstuv"), "iwpykn");
        assert_eq!(key_checksum("ak", "k3j5m7n9p2q4r6s8t0v1w3"), "zarmg5");
        assert_eq!(crc32fast::hash(b"rk:abcdefghijklmnopqrstuv"), 0x1aac_3ec8);

        assert!(is_valid_key("alter_rk_abcdefghijklmnopqrstuv_iwpykn"));
        assert!(is_valid_key("alter_ak_k3j5m7n9p2q4r6s8t0v1w3_zarmg5"));
        assert!(is_valid_key("alter_key_x"));
        for bad in [
            "",
            "alter_key_",
            "alter_rk_abcdefghijklmnopqrstuv_iwpykm",
            "alter_rk_abcdefghijklmnopqrstuv_IWPYKN",
            "alter_xk_abcdefghijklmnopqrstuv_iwpykn",
            "alter_rk_abcdefghijklmnopqrstu_iwpykn",
            "alter_rk_abcdefghijklmnopqrstuv_iwpyk",
            "alter_rk_abcdefghijklmnopqrstuv_iwpykn_x",
            "other_rk_abcdefghijklmnopqrstuv_iwpykn",
        ] {
            assert!(!is_valid_key(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn caller_limits() {
        assert!(validate_caller("billing-agent v2 (~)").is_ok());
        assert!(validate_caller(&"x".repeat(255)).is_ok());
        for bad in [
            String::new(),
            "x".repeat(256),
            "tab\there".into(),
            "é".into(),
            "del\u{7f}".into(),
        ] {
            assert!(
                matches!(validate_caller(&bad), Err(Error::Sdk { .. })),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn uuids_are_canonicalized() {
        let canonical = "3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c";
        for form in [
            canonical,
            "3F2B8C1A-5D4E-4F6A-9B7C-8D9E0F1A2B3C",
            "3f2b8c1a5d4e4f6a9b7c8d9e0f1a2b3c",
            "{3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c}",
            "urn:uuid:3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3c",
        ] {
            assert_eq!(canonical_uuid(form).as_deref(), Some(canonical), "{form}");
        }
        assert_eq!(canonical_uuid(""), None);
        assert_eq!(canonical_uuid("3f2b8c1a-5d4e-4f6a-9b7c-8d9e0f1a2b3"), None);
    }

    proptest! {
        #[test]
        fn validators_never_panic(s in any::<String>()) {
            let _ = BaseUrl::parse(&s);
            let _ = ApiKey::parse(&s);
            let _ = is_valid_key(&s);
            let _ = validate_caller(&s);
            let _ = canonical_uuid(&s);
        }

        #[test]
        fn generated_keys_validate(key_type in prop::sample::select(KEY_TYPES.to_vec()), random in "[a-z2-7]{22}") {
            let key = format!("alter_{key_type}_{random}_{}", key_checksum(key_type, &random));
            prop_assert!(is_valid_key(&key));
            let parsed = ApiKey::parse(&key).unwrap();
            prop_assert_eq!(parsed.key_type(), Some(key_type));
        }

        #[test]
        fn base_url_parts_recompose(host in "[a-z]{1,10}\\.example", prefix in "(/[a-z0-9]{1,5}){0,3}") {
            let base = BaseUrl::parse(&format!("https://{host}{prefix}/")).unwrap();
            prop_assert_eq!(format!("{}{}", base.origin(), base.path_prefix()), base.as_str());
            prop_assert_eq!(base.path_prefix(), prefix.as_str());
        }
    }
}
