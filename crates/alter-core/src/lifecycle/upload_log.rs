//! The log lines of background uploads, the same in both frontends: each frontend sends an
//! upload its own way, then reports the outcome here. Uploads never fail a call, so their
//! outcome exists only as these lines; they name the path alone, because the query and the
//! body may carry what must not be logged.

use crate::io::{HttpRequest, HttpResponse, TransportError};

/// The path of an upload's URL, without its query: what the upload's log line names.
///
/// ```
/// use alter_core::HttpRequest;
/// use alter_core::io::Target;
/// use alter_core::lifecycle::upload_path;
///
/// let request = HttpRequest {
///     target: Target::Backend,
///     method: "POST".into(),
///     url: "https://vault.example.com/sdk/oauth/audit/api-call?token=x".into(),
///     headers: Vec::new(),
///     body: Vec::new(),
///     timeout: None,
/// };
/// assert_eq!(upload_path(&request), "/sdk/oauth/audit/api-call");
/// ```
pub fn upload_path(request: &HttpRequest) -> String {
    let path_and_query = request.path_and_query();
    path_and_query
        .split_once('?')
        .map_or(path_and_query, |(path, _)| path)
        .to_owned()
}

/// Logs what became of the upload to `path` (see [`upload_path`]): a debug line when the
/// server took it, a warning with the status when it refused, a warning with the failure's
/// kind when no answer came. Nothing else is logged: never the body, headers or message.
pub fn log_upload_outcome(path: &str, outcome: &Result<HttpResponse, TransportError>) {
    match outcome {
        Ok(response) if (200..300).contains(&response.status) => {
            tracing::debug!(path, status = response.status, "background upload done");
        }
        Ok(response) => {
            tracing::warn!(path, status = response.status, "background upload refused");
        }
        Err(error) => {
            tracing::warn!(path, kind = ?error.kind, "background upload failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{Target, TransportErrorKind};
    use crate::test_support::warnings_of;

    fn request(url: &str) -> HttpRequest {
        HttpRequest {
            target: Target::Backend,
            method: "POST".into(),
            url: url.into(),
            headers: Vec::new(),
            body: b"secret body".to_vec(),
            timeout: None,
        }
    }

    fn answer(status: u16) -> Result<HttpResponse, TransportError> {
        Ok(HttpResponse {
            status,
            headers: Vec::new(),
            body: b"secret answer".to_vec(),
        })
    }

    #[test]
    fn the_path_drops_the_query() {
        let path = |url| upload_path(&request(url));

        assert_eq!(path("https://h.example/sdk/audit?k=secret"), "/sdk/audit");
        assert_eq!(path("https://h.example/sdk/audit"), "/sdk/audit");
        assert_eq!(path("https://h.example?k=secret"), "/");
    }

    #[test]
    fn only_refusals_and_failures_warn_and_they_name_the_path_alone() {
        let refused = warnings_of(|| log_upload_outcome("/sdk/audit", &answer(500)));
        let failed = warnings_of(|| {
            let error = TransportError::new(TransportErrorKind::Timeout, "secret message");
            log_upload_outcome("/sdk/audit", &Err(error));
        });
        let done = warnings_of(|| log_upload_outcome("/sdk/audit", &answer(204)));

        assert!(
            refused.contains("refused") && refused.contains("500"),
            "{refused}"
        );
        assert!(
            failed.contains("failed") && failed.contains("Timeout"),
            "{failed}"
        );
        assert!(done.is_empty(), "{done}");
        for line in [refused, failed] {
            assert!(line.contains("/sdk/audit"), "{line}");
            assert!(!line.contains("secret"), "{line}");
            assert_eq!(line.lines().count(), 1, "{line}");
        }
    }
}
