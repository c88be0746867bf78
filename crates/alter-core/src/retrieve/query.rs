//! The provider request's query string (PROTOCOL §6.6, §16 D6).
//!
//! Query parameters are form-encoded and always appended to whatever query the URL already
//! carries; the reference client replaced or appended depending on its HTTP library version.

use serde_json::Value;

use crate::encoding::form_encode;
use crate::json;

/// Appends `params` to the query of `url`, form-encoded, in order.
///
/// Any fragment (`#...`) is dropped: it is never sent to a server. Each value is spelled as
/// the reference client spells it: strings as they are, `true`/`false`, `null` as an empty
/// value, integers in decimal, floats as the shortest round-trip decimal (`1.5`, `2.0`,
/// `1e-07`), an array as one `key=item` pair per item, and an object as its compact JSON.
/// Names and values are form-encoded: `A-Z a-z 0-9 _ . - ~` stay, a space becomes `+`,
/// every other UTF-8 byte becomes `%XX`. With no parameters the URL comes back unchanged
/// apart from the fragment.
///
/// # Example
///
/// ```
/// use alter_core::retrieve::query::append_query;
/// use serde_json::json;
///
/// let params = vec![("q".to_string(), json!("Zürich")), ("units".to_string(), json!("metric"))];
/// assert_eq!(
///     append_query("https://api.example.com/weather?v=2", &params),
///     "https://api.example.com/weather?v=2&q=Z%C3%BCrich&units=metric",
/// );
/// ```
pub fn append_query(url: &str, params: &[(String, Value)]) -> String {
    let base = url.split_once('#').map_or(url, |(before, _)| before);
    let mut out = base.to_owned();

    // No separator is needed right after a bare `?` or a trailing `&`.
    let mut separator = match base.split_once('?') {
        None => Some('?'),
        Some((_, "")) => None,
        Some((_, query)) if query.ends_with('&') => None,
        Some(_) => Some('&'),
    };
    for (name, value) in params {
        for text in value_texts(value) {
            if let Some(separator) = separator {
                out.push(separator);
            }
            separator = Some('&');
            out.push_str(&form_encode(name));
            out.push('=');
            out.push_str(&form_encode(&text));
        }
    }
    out
}

/// The caller's query parameters with the injected ones merged in (§6.4): an injected name
/// that the caller also used replaces that value in place, any other is appended.
///
/// # Example
///
/// ```
/// use alter_core::retrieve::query::with_injected_params;
/// use serde_json::json;
///
/// let caller = vec![("api_key".to_string(), json!("mine")), ("q".to_string(), json!(1))];
/// let injected = vec![("api_key".to_string(), "tok".to_string()), ("sig".to_string(), "s".to_string())];
/// let merged = with_injected_params(&caller, &injected);
/// assert_eq!(
///     merged,
///     vec![
///         ("api_key".to_string(), json!("tok")),
///         ("q".to_string(), json!(1)),
///         ("sig".to_string(), json!("s")),
///     ]
/// );
/// ```
pub fn with_injected_params(
    params: &[(String, Value)],
    injected: &[(String, String)],
) -> Vec<(String, Value)> {
    let mut merged = params.to_vec();
    for (name, value) in injected {
        let value = Value::String(value.clone());
        match merged.iter_mut().find(|(existing, _)| existing == name) {
            Some(slot) => slot.1 = value,
            None => merged.push((name.clone(), value)),
        }
    }
    merged
}

/// The texts one parameter value contributes: one per array item, else exactly one.
fn value_texts(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().map(scalar_text).collect(),
        other => vec![scalar_text(other)],
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(flag) => flag.to_string(),
        Value::String(text) => text.clone(),
        Value::Number(number) => match number.as_f64() {
            Some(float) if !number.is_i64() && !number.is_u64() => json::python_float_repr(float),
            _ => number.to_string(),
        },
        Value::Array(_) | Value::Object(_) => {
            String::from_utf8_lossy(&json::to_compact(value)).into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(value: Value) -> Vec<(String, Value)> {
        value
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn provider_path(entry_id: &str) -> (String, Vec<(String, Value)>, String) {
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
            .find(|e| e["id"] == entry_id)
            .unwrap();
        let url = entry["call"]["args"][1].as_str().unwrap().to_owned();
        let query = params(entry["call"]["kwargs"]["query_params"].clone());
        let path = entry["provider_requests"][0]["request"]["path"]
            .as_str()
            .unwrap()
            .to_owned();
        (url, query, path)
    }

    #[test]
    fn conformance_queries_are_byte_identical() {
        for id in ["app.request.bearer_get", "agent.request.grant_api_key"] {
            let (url, query, path) = provider_path(id);
            let built = append_query(&url, &query);
            assert_eq!(built, format!("http://127.0.0.1:41709{path}"), "{id}");
        }
    }

    #[test]
    fn values_are_spelled_like_the_reference() {
        let query = params(json!({
            "s": "a b+c&d=é",
            "t": true,
            "f": false,
            "n": null,
            "i": -42,
            "x": 1.5,
            "y": 2.0,
            "z": 1e-7,
            "l": [1, "two", null, false],
            "o": {"k": "v", "m": [1, 2]},
        }));
        assert_eq!(
            append_query("https://h/p", &query),
            "https://h/p?s=a+b%2Bc%26d%3D%C3%A9&t=true&f=false&n=&i=-42&x=1.5&y=2.0&z=1e-07\
             &l=1&l=two&l=&l=false&o=%7B%22k%22%3A%22v%22%2C%22m%22%3A%5B1%2C2%5D%7D"
        );
    }

    #[test]
    fn parameters_are_appended_to_an_existing_query() {
        let query = params(json!({"b": "2"}));
        assert_eq!(
            append_query("https://h/p?a=1", &query),
            "https://h/p?a=1&b=2"
        );
        assert_eq!(append_query("https://h/p?", &query), "https://h/p?b=2");
        assert_eq!(
            append_query("https://h/p?a=1&", &query),
            "https://h/p?a=1&b=2"
        );
        assert_eq!(
            append_query("https://h/p?a=1#frag", &query),
            "https://h/p?a=1&b=2"
        );
        assert_eq!(
            append_query("https://h/p#frag?x", &query),
            "https://h/p?b=2"
        );
    }

    #[test]
    fn no_parameters_leave_the_url_alone() {
        assert_eq!(append_query("https://h/p?a=1", &[]), "https://h/p?a=1");
        assert_eq!(append_query("https://h/p#f", &[]), "https://h/p");
    }

    #[test]
    fn injected_params_replace_in_place_or_append() {
        let caller = params(json!({"a": "1", "api_key": "x"}));
        let injected = vec![
            ("api_key".to_owned(), "tok en".to_owned()),
            ("b".to_owned(), "2".to_owned()),
        ];
        let merged = with_injected_params(&caller, &injected);
        assert_eq!(
            append_query("https://h/p", &merged),
            "https://h/p?a=1&api_key=tok+en&b=2"
        );
        assert_eq!(with_injected_params(&[], &[]), vec![]);
    }

    #[test]
    fn an_empty_array_contributes_nothing() {
        let query = params(json!({"l": [], "a": "1"}));
        assert_eq!(append_query("https://h/p", &query), "https://h/p?a=1");
    }
}
