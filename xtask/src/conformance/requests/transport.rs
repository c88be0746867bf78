//! How requests are answered: the recorded exchanges of an entry, replayed in order.
//!
//! The runner is the transport of the core. Every request the core emits is matched to the
//! next recorded request (backend and provider requests share one order, their `seq`),
//! compared with it, and answered with the recorded response. This is the only place that
//! knows where answers come from; a loopback HTTP server can serve the same [`Script`].

use std::collections::VecDeque;

use alter_core::{HttpRequest, HttpResponse, Target, TransportError, TransportErrorKind};

use super::compare::Checks;
use super::fixture::{Entry, RecordedRequest, ResponseFixture, string_pairs};

/// How the core handed a request over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// `Step::Send`: the operation waits for the answer.
    Awaited,
    /// `Step::Detach`: fire and forget.
    Background,
}

/// Carries the requests of one operation and returns what came back.
pub(crate) trait Transport {
    /// Sends `request` and returns the answer, or a failure below HTTP.
    fn send(
        &mut self,
        request: &HttpRequest,
        delivery: Delivery,
    ) -> Result<HttpResponse, TransportError>;
}

/// One recorded request and the answer it got.
#[derive(Debug)]
pub(crate) struct Exchange {
    /// Who received it.
    pub(crate) target: Target,
    /// What was received.
    pub(crate) request: RecordedRequest,
    /// What was answered, as a client sees it.
    pub(crate) response: HttpResponse,
}

/// The exchanges of one entry in their global order.
#[derive(Debug)]
pub(crate) struct Script {
    exchanges: VecDeque<Exchange>,
}

impl Script {
    /// Pairs every recorded request with its answer and orders them by `seq`.
    pub(crate) fn from_entry(entry: &mut Entry) -> Result<Self, String> {
        let mut fixtures = std::mem::take(&mut entry.response_fixtures);
        let mut exchanges = Vec::new();

        for request in std::mem::take(&mut entry.requests) {
            let position = fixtures
                .iter()
                .position(|fixture| fixture.seq == request.seq)
                .ok_or_else(|| {
                    format!(
                        "no response fixture for backend request seq {}",
                        request.seq
                    )
                })?;
            let fixture = fixtures.swap_remove(position);
            exchanges.push(Exchange {
                target: Target::Backend,
                response: synthesize(&fixture)?,
                request,
            });
        }
        for exchange in std::mem::take(&mut entry.provider_requests) {
            exchanges.push(Exchange {
                target: Target::Provider,
                response: synthesize(&exchange.response_fixture)?,
                request: exchange.request,
            });
        }

        exchanges.sort_by_key(|exchange| exchange.request.seq);
        Ok(Self {
            exchanges: exchanges.into(),
        })
    }

    /// The next exchange, if any is left.
    pub(crate) fn next(&mut self) -> Option<Exchange> {
        self.exchanges.pop_front()
    }

    /// The exchanges never reached.
    pub(crate) fn remaining(&self) -> impl Iterator<Item = &Exchange> {
        self.exchanges.iter()
    }
}

/// The response as an HTTP client hands it over: the fixture's status and headers (names
/// lower-cased, as HTTP/2 and the Rust clients present them), then the `content-length` the
/// capturing server added, and the body bytes.
pub(crate) fn synthesize(fixture: &ResponseFixture) -> Result<HttpResponse, String> {
    let body = fixture.body()?;

    let mut headers: Vec<(String, String)> = string_pairs(&fixture.headers)
        .map_err(|err| format!("response seq {}: {err}", fixture.seq))?
        .into_iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value))
        .collect();
    let has_length = headers.iter().any(|(name, _)| name == "content-length");
    if !has_length && fixture.status != 204 && fixture.status != 304 {
        headers.push(("content-length".to_owned(), body.len().to_string()));
    }

    Ok(HttpResponse {
        status: fixture.status,
        headers,
        body,
    })
}

/// A [`Transport`] that answers from a [`Script`] and writes down every difference between
/// what the core sent and what was recorded.
#[derive(Debug)]
pub(crate) struct Replay {
    script: Script,
    checks: Checks,
    differences: Vec<String>,
}

impl Replay {
    /// Replays `script`, checking each request with `checks`.
    pub(crate) fn new(script: Script, checks: Checks) -> Self {
        Self {
            script,
            checks,
            differences: Vec::new(),
        }
    }

    /// Every difference seen, then one line per recorded request that was never sent.
    pub(crate) fn finish(mut self) -> Vec<String> {
        for missed in self.script.remaining() {
            self.differences.push(format!(
                "seq {}: expected {} {} was never sent",
                missed.request.seq, missed.request.method, missed.request.path
            ));
        }
        self.differences
    }
}

impl Transport for Replay {
    fn send(
        &mut self,
        request: &HttpRequest,
        delivery: Delivery,
    ) -> Result<HttpResponse, TransportError> {
        let Some(expected) = self.script.next() else {
            self.differences.push(format!(
                "unexpected extra request {} {}",
                request.method,
                request.path_and_query()
            ));
            return Err(TransportError::new(
                TransportErrorKind::Connect,
                "no recorded exchange left",
            ));
        };

        let seq = expected.request.seq;
        let mut found = Vec::new();
        if expected.target != request.target {
            found.push(format!(
                "sent to {:?}, recorded at {:?}",
                request.target, expected.target
            ));
        }
        let background = delivery == Delivery::Background;
        if expected.request.background != background {
            found.push(format!(
                "delivered {}, recorded {}",
                describe(background),
                describe(expected.request.background)
            ));
        }
        found.extend(match expected.target {
            Target::Backend => self.checks.backend(&expected.request, request),
            Target::Provider => self.checks.provider(&expected.request, request),
        });

        self.differences.extend(
            found
                .into_iter()
                .map(|difference| format!("seq {seq}: {difference}")),
        );
        Ok(expected.response)
    }
}

fn describe(background: bool) -> &'static str {
    if background {
        "in the background"
    } else {
        "awaited"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(json: &str) -> ResponseFixture {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn synthesized_responses_lower_case_names_and_add_the_length() {
        let response = synthesize(&fixture(
            r#"{"seq":1,"status":403,"headers":{"Content-Type":"application/json","WWW-Authenticate":"Bearer"},"body_json":{"ok":true}}"#,
        ))
        .unwrap();

        assert_eq!(response.status, 403);
        assert_eq!(
            response.headers,
            vec![
                ("content-type".to_owned(), "application/json".to_owned()),
                ("www-authenticate".to_owned(), "Bearer".to_owned()),
                ("content-length".to_owned(), "11".to_owned()),
            ]
        );
        assert_eq!(response.body, b"{\"ok\":true}");
    }

    #[test]
    fn no_content_answers_carry_no_length() {
        let response = synthesize(&fixture(
            r#"{"seq":3,"status":204,"headers":{},"body_json":null}"#,
        ))
        .unwrap();

        assert!(response.headers.is_empty());
        assert!(response.body.is_empty());
    }
}
