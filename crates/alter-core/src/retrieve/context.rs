//! The `X-Alter-Context` header and the trace context that feeds it (PROTOCOL §2.3).
//!
//! A context is a small ordered map of strings that the caller attaches to a request (or
//! that an enclosing `Agent.trace` scope provides); it travels as compact JSON in
//! `X-Alter-Context` on the token and audit calls.

use std::collections::HashSet;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::json;

/// Keys the SDK itself sets in a trace context; callers cannot set them as metadata, and
/// a nested trace does not inherit them.
pub const RESERVED_KEYS: [&str; 7] = [
    "agent",
    "parent_agent",
    "run_id",
    "thread_id",
    "tool",
    "tool_call_id",
    "framework",
];

/// The most keys a context may hold.
pub const MAX_KEYS: usize = 20;
/// The longest key, in characters for a context, in UTF-8 bytes for trace metadata.
pub const MAX_KEY_LEN: usize = 64;
/// The longest value, in characters for a context, in UTF-8 bytes for trace metadata.
pub const MAX_VALUE_LEN: usize = 512;
/// The largest serialized context, in bytes; also the cap on the summed key and value
/// bytes of trace metadata.
pub const MAX_TOTAL_LEN: usize = 4096;

/// Validates a context map and returns its `X-Alter-Context` header value.
///
/// An empty map sends no header (`None`). Otherwise the value is the compact JSON object of
/// the pairs in order, every non-ASCII character escaped, so it is pure ASCII and holds no
/// CR or LF.
///
/// # Errors
///
/// [`Error::InvalidInput`] when the map has more than [`MAX_KEYS`] keys, a key longer than
/// [`MAX_KEY_LEN`] characters, a value longer than [`MAX_VALUE_LEN`] characters, a repeated
/// key, a NUL anywhere, or a serialized form longer than [`MAX_TOTAL_LEN`] bytes.
///
/// # Example
///
/// ```
/// use alter_core::retrieve::context::validate_context;
///
/// let context = vec![
///     ("ticket".to_string(), "SUP-1234".to_string()),
///     ("tool".to_string(), "notion_update".to_string()),
/// ];
/// assert_eq!(
///     validate_context(&context)?.as_deref(),
///     Some(r#"{"ticket":"SUP-1234","tool":"notion_update"}"#),
/// );
/// assert_eq!(validate_context(&[])?, None);
/// # Ok::<(), alter_core::Error>(())
/// ```
pub fn validate_context(map: &[(String, String)]) -> Result<Option<String>> {
    if map.is_empty() {
        return Ok(None);
    }

    if map.len() > MAX_KEYS {
        return Err(Error::invalid_input(format!(
            "context has more than {MAX_KEYS} keys"
        )));
    }
    let mut seen = HashSet::new();
    for (key, value) in map {
        if key.chars().count() > MAX_KEY_LEN {
            return Err(Error::invalid_input(format!(
                "context key longer than {MAX_KEY_LEN} characters"
            )));
        }
        if value.chars().count() > MAX_VALUE_LEN {
            return Err(Error::invalid_input(format!(
                "context value of {key:?} longer than {MAX_VALUE_LEN} characters"
            )));
        }
        if key.contains('\0') || value.contains('\0') {
            return Err(Error::invalid_input(
                "context keys and values must not contain NUL",
            ));
        }
        if !seen.insert(key.as_str()) {
            return Err(Error::invalid_input(format!(
                "context key {key:?} appears twice"
            )));
        }
    }

    let object = map
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let header = String::from_utf8_lossy(&json::to_compact(&Value::Object(object))).into_owned();
    if header.len() > MAX_TOTAL_LEN {
        return Err(Error::invalid_input(format!(
            "serialized context longer than {MAX_TOTAL_LEN} bytes"
        )));
    }
    Ok(Some(header))
}

/// What the enclosing trace scope does to `parent_agent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParentAgent<'a> {
    /// The enclosing trace's `agent`, when there is one and it differs from this agent.
    Inherit,
    /// This value, whatever the enclosing trace says.
    Explicit(&'a str),
    /// No `parent_agent` at all.
    Remove,
}

/// The inputs of one `Agent.trace` scope.
#[derive(Clone, Copy, Debug)]
pub struct TraceScope<'a> {
    /// The context of the enclosing trace scope, if any.
    pub enclosing: Option<&'a [(String, String)]>,
    /// This agent's name: its `caller`, else a per-instance `agent-local-<uuid>`.
    pub agent: &'a str,
    /// How `parent_agent` is chosen.
    pub parent: ParentAgent<'a>,
    /// Explicit run id; the enclosing trace's is inherited when `None`.
    pub run_id: Option<&'a str>,
    /// Explicit thread id; the enclosing trace's is inherited when `None`.
    pub thread_id: Option<&'a str>,
    /// Caller metadata, appended last.
    pub metadata: &'a [(String, String)],
}

/// Builds the ambient context of a trace scope.
///
/// In order: the enclosing context's non-reserved keys, `agent`, `parent_agent` (see
/// [`ParentAgent`]), `run_id` and `thread_id` (explicit, else inherited, else absent), then
/// the metadata. A metadata key equal to an inherited key replaces its value in place.
///
/// The result is not checked against the header limits; [`validate_context`] does that when
/// a request uses it.
///
/// # Errors
///
/// [`Error::InvalidInput`] when the metadata uses a [reserved key](RESERVED_KEYS), has more
/// than [`MAX_KEYS`] keys, a key over [`MAX_KEY_LEN`] bytes, a value over [`MAX_VALUE_LEN`]
/// bytes, or keys and values summing to more than [`MAX_TOTAL_LEN`] bytes (UTF-8).
///
/// # Example
///
/// ```
/// use alter_core::retrieve::context::{build_trace_context, ParentAgent, TraceScope};
///
/// let metadata = vec![("role".to_string(), "writer".to_string())];
/// let context = build_trace_context(&TraceScope {
///     enclosing: None,
///     agent: "research-agent",
///     parent: ParentAgent::Inherit,
///     run_id: Some("run_1"),
///     thread_id: None,
///     metadata: &metadata,
/// })?;
/// let keys: Vec<&str> = context.iter().map(|(k, _)| k.as_str()).collect();
/// assert_eq!(keys, ["agent", "run_id", "role"]);
/// # Ok::<(), alter_core::Error>(())
/// ```
pub fn build_trace_context(scope: &TraceScope<'_>) -> Result<Vec<(String, String)>> {
    check_metadata(scope.metadata)?;

    let enclosing = scope.enclosing.unwrap_or_default();
    let inherited = |key: &str| {
        enclosing
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let mut context: Vec<(String, String)> = Vec::new();

    for (key, value) in enclosing {
        if !RESERVED_KEYS.contains(&key.as_str()) {
            upsert(&mut context, key, value);
        }
    }

    upsert(&mut context, "agent", scope.agent);
    let parent = match scope.parent {
        ParentAgent::Inherit => inherited("agent").filter(|outer| *outer != scope.agent),
        ParentAgent::Explicit(parent) => Some(parent),
        ParentAgent::Remove => None,
    };
    if let Some(parent) = parent {
        upsert(&mut context, "parent_agent", parent);
    }
    if let Some(run_id) = scope.run_id.or_else(|| inherited("run_id")) {
        upsert(&mut context, "run_id", run_id);
    }
    if let Some(thread_id) = scope.thread_id.or_else(|| inherited("thread_id")) {
        upsert(&mut context, "thread_id", thread_id);
    }

    for (key, value) in scope.metadata {
        upsert(&mut context, key, value);
    }
    Ok(context)
}

fn check_metadata(metadata: &[(String, String)]) -> Result<()> {
    if metadata.len() > MAX_KEYS {
        return Err(Error::invalid_input(format!(
            "trace metadata has more than {MAX_KEYS} keys"
        )));
    }

    let mut total = 0usize;
    for (key, value) in metadata {
        if RESERVED_KEYS.contains(&key.as_str()) {
            return Err(Error::invalid_input(format!(
                "trace metadata key {key:?} is reserved for the SDK"
            )));
        }
        if key.len() > MAX_KEY_LEN {
            return Err(Error::invalid_input(format!(
                "trace metadata key longer than {MAX_KEY_LEN} bytes"
            )));
        }
        if value.len() > MAX_VALUE_LEN {
            return Err(Error::invalid_input(format!(
                "trace metadata value of {key:?} longer than {MAX_VALUE_LEN} bytes"
            )));
        }
        total += key.len() + value.len();
    }

    if total > MAX_TOTAL_LEN {
        return Err(Error::invalid_input(format!(
            "trace metadata longer than {MAX_TOTAL_LEN} bytes in total"
        )));
    }
    Ok(())
}

/// Sets `key` to `value`, keeping the key's position when it is already present.
fn upsert(context: &mut Vec<(String, String)>, key: &str, value: &str) {
    match context.iter_mut().find(|(existing, _)| existing == key) {
        Some(slot) => value.clone_into(&mut slot.1),
        None => context.push((key.to_owned(), value.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn scope<'a>(metadata: &'a [(String, String)]) -> TraceScope<'a> {
        TraceScope {
            enclosing: None,
            agent: "me",
            parent: ParentAgent::Inherit,
            run_id: None,
            thread_id: None,
            metadata,
        }
    }

    #[test]
    fn conformance_trace_header_is_reproduced() {
        // Vector agent.trace.request: caller research-agent, trace(run_id, thread_id, role).
        let metadata = pairs(&[("role", "writer")]);
        let context = build_trace_context(&TraceScope {
            agent: "research-agent",
            run_id: Some("run_2026_01_01"),
            thread_id: Some("thread-42"),
            ..scope(&metadata)
        })
        .unwrap();

        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/conformance/requests.json"
        ))
        .unwrap();
        let entries: Value = serde_json::from_str(&text).unwrap();
        let entry = entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == "agent.trace.request")
            .unwrap();
        let recorded = entry["requests"][0]["headers"]["x-alter-context"]
            .as_str()
            .unwrap();
        assert_eq!(entry["requests"][0]["path"], "/sdk/token");
        assert_eq!(
            validate_context(&context).unwrap().as_deref(),
            Some(recorded)
        );
    }

    #[test]
    fn context_header_is_ascii_json_in_order() {
        let context = pairs(&[("z", "é\"\n"), ("a", "1")]);
        assert_eq!(
            validate_context(&context).unwrap().as_deref(),
            Some(r#"{"z":"\u00e9\"\n","a":"1"}"#)
        );
    }

    #[test]
    fn context_limits_count_characters() {
        let long_key = "é".repeat(64);
        let long_value = "é".repeat(512);
        assert!(validate_context(&[(long_key.clone(), long_value.clone())]).is_ok());

        for context in [
            vec![(format!("{long_key}x"), String::new())],
            vec![(String::new(), format!("{long_value}x"))],
            (0..21).map(|i| (i.to_string(), String::new())).collect(),
            pairs(&[("a", "1"), ("a", "2")]),
            pairs(&[("a\0", "1")]),
            pairs(&[("a", "\0")]),
        ] {
            let error = validate_context(&context).unwrap_err();
            assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
        }
    }

    #[test]
    fn context_serialized_size_is_capped() {
        // 20 values of 200 'é': within per-value limits, but each escapes to 1200 bytes.
        let big: Vec<(String, String)> =
            (0..20).map(|i| (i.to_string(), "é".repeat(200))).collect();
        assert!(matches!(
            validate_context(&big),
            Err(Error::InvalidInput { .. })
        ));

        // Exactly at the cap passes: 8 pairs of one-character keys cost 57 bytes of framing.
        let mut exact: Vec<(String, String)> = (0..7)
            .map(|i| (i.to_string(), "v".repeat(MAX_VALUE_LEN)))
            .collect();
        exact.push(("7".to_owned(), "v".repeat(455)));
        assert_eq!(
            validate_context(&exact).unwrap().unwrap().len(),
            MAX_TOTAL_LEN
        );
        exact[7].1.push('v');
        assert!(matches!(
            validate_context(&exact),
            Err(Error::InvalidInput { .. })
        ));
    }

    #[test]
    fn nested_trace_inherits_non_reserved_keys_and_parent() {
        let outer = pairs(&[
            ("team", "core"),
            ("agent", "planner"),
            ("run_id", "r1"),
            ("thread_id", "t1"),
            ("tool", "search"),
            ("parent_agent", "root"),
        ]);
        let metadata = pairs(&[("team", "edge"), ("role", "w")]);
        let context = build_trace_context(&TraceScope {
            enclosing: Some(&outer),
            thread_id: Some("t2"),
            ..scope(&metadata)
        })
        .unwrap();
        assert_eq!(
            context,
            pairs(&[
                ("team", "edge"),
                ("agent", "me"),
                ("parent_agent", "planner"),
                ("run_id", "r1"),
                ("thread_id", "t2"),
                ("role", "w"),
            ])
        );
    }

    #[test]
    fn parent_agent_follows_the_requested_rule() {
        let outer = pairs(&[("agent", "me")]);
        let same = build_trace_context(&TraceScope {
            enclosing: Some(&outer),
            ..scope(&[])
        });
        assert_eq!(same.unwrap(), pairs(&[("agent", "me")]));

        let explicit = build_trace_context(&TraceScope {
            enclosing: Some(&outer),
            parent: ParentAgent::Explicit("boss"),
            ..scope(&[])
        });
        assert_eq!(
            explicit.unwrap(),
            pairs(&[("agent", "me"), ("parent_agent", "boss")])
        );

        let other = pairs(&[("agent", "planner")]);
        let removed = build_trace_context(&TraceScope {
            enclosing: Some(&other),
            parent: ParentAgent::Remove,
            ..scope(&[])
        });
        assert_eq!(removed.unwrap(), pairs(&[("agent", "me")]));
    }

    #[test]
    fn metadata_limits_count_bytes() {
        let ok = pairs(&[("k", &"v".repeat(512))]);
        assert!(build_trace_context(&scope(&ok)).is_ok());

        let too_long_value = pairs(&[("k", &"é".repeat(257))]);
        let too_long_key = vec![("é".repeat(33), String::new())];
        let too_many: Vec<(String, String)> =
            (0..21).map(|i| (i.to_string(), String::new())).collect();
        let too_big: Vec<(String, String)> =
            (0..9).map(|i| (i.to_string(), "v".repeat(500))).collect();
        let reserved = pairs(&[("tool_call_id", "x")]);
        for metadata in [too_long_value, too_long_key, too_many, too_big, reserved] {
            let error = build_trace_context(&scope(&metadata)).unwrap_err();
            assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
        }
    }
}
