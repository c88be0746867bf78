//! The bare HTTP stacks our frontends sit on, configured as our frontends configure them,
//! sending requests exactly as the core built them and reading the answer as bytes.

use std::time::Duration;

use alter_core::HttpRequest;

/// The exchange timeout of both stacks (our clients' default).
const TIMEOUT: Duration = Duration::from_secs(30);

/// A reqwest client as alter-async builds it.
pub(crate) fn reqwest_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .use_rustls_tls()
        .build()
        .map_err(|error| error.to_string())
}

/// A ureq agent as alter-blocking builds it.
pub(crate) fn ureq_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_idle_connections(64)
        .max_idle_connections_per_host(64)
        .timeout_global(Some(TIMEOUT))
        .build()
        .into()
}

/// Sends `request` with reqwest; `true` for a 2xx answer read to its end.
pub(crate) async fn send_reqwest(client: &reqwest::Client, request: HttpRequest) -> bool {
    let Ok(method) = reqwest::Method::from_bytes(request.method.as_bytes()) else {
        return false;
    };

    let mut builder = client.request(method, &request.url).body(request.body);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }

    match builder.send().await {
        Ok(response) => {
            let success = response.status().is_success();
            response.bytes().await.is_ok() && success
        }
        Err(_) => false,
    }
}

/// Sends `request` with ureq; `true` for a 2xx answer read to its end.
pub(crate) fn send_ureq(agent: &ureq::Agent, request: HttpRequest) -> bool {
    let mut builder = ureq::http::Request::builder()
        .method(request.method.as_str())
        .uri(&request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let Ok(request) = builder.body(request.body) else {
        return false;
    };

    match agent.run(request) {
        Ok(response) => {
            let success = response.status().is_success();
            response.into_body().read_to_vec().is_ok() && success
        }
        Err(_) => false,
    }
}
