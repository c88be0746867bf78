//! End-user sign-in through the identity provider: auth session, its poll, and token
//! verification (PROTOCOL.md §5.14–5.16).

use std::sync::Arc;

use alter_types::{AuthPollResponse, AuthSession, Secret};
use serde::Deserialize;

use super::{Object, body, decode};
use crate::call::{Call, ErrorsAsNone};
use crate::classify::auth_session_failure;
use crate::engine::{ApiPath, BackendCall, Engine};
use crate::error::{ApiError, Error};
use crate::retry::Idempotency;

impl Engine {
    /// `POST /sdk/auth/session`: starts an IDP sign-in; only `201` is success.
    pub fn create_auth_session(self: &Arc<Self>) -> Call<AuthSession> {
        let call = BackendCall::new("POST", ApiPath::new("/sdk/auth/session")).json(b"{}".to_vec());
        Call::new(
            Arc::clone(self),
            call,
            Idempotency::Unsafe,
            Box::new(|response| {
                if response.status != 201 {
                    let content_type = response.header("content-type").map(str::to_owned);
                    return Err(auth_session_failure(
                        response.status,
                        content_type.as_deref(),
                        &response.body,
                    ));
                }
                decode(response.status, &response.body)
            }),
        )
    }

    /// One poll of an auth session: `POST /sdk/auth/poll`. Any status but 200 is an error
    /// that the sign-in poller treats as "try again".
    pub fn poll_auth_session_once(
        self: &Arc<Self>,
        session_token: &Secret,
    ) -> Call<AuthPollResponse> {
        let mut object = Object::new();
        object.insert("session_token".into(), session_token.expose_secret().into());

        let call = BackendCall::new("POST", ApiPath::new("/sdk/auth/poll")).json(body(object));
        Call::new(
            Arc::clone(self),
            call,
            Idempotency::Safe,
            Box::new(|response| {
                if response.status != 200 {
                    return Err(Error::backend(ApiError {
                        status: response.status,
                        code: None,
                        message: format!("auth poll returned {}", response.status),
                        details: crate::error::Details::new(),
                    }));
                }
                decode(response.status, &response.body)
            }),
        )
    }

    /// `verify_user_token`: `POST /sdk/auth/verify-token`; the token's subject, or `None`
    /// when the token is blank, invalid, or the check failed in any way. Never an error.
    pub fn verify_user_token(
        self: &Arc<Self>,
        token: &str,
    ) -> Option<ErrorsAsNone<Call<Option<String>>>> {
        if token.trim().is_empty() {
            return None;
        }

        let mut object = Object::new();
        object.insert("token".into(), token.into());

        let path = ApiPath::new("/sdk/auth/verify-token");
        let call = BackendCall::new("POST", path).json(body(object));
        Some(ErrorsAsNone::new(Call::new(
            Arc::clone(self),
            call,
            Idempotency::Safe,
            Box::new(|response| {
                if response.status != 200 {
                    return Ok(None);
                }
                #[derive(Deserialize)]
                struct Verified {
                    sub: Option<serde_json::Value>,
                }
                let verified: Verified = decode(response.status, &response.body)?;
                Ok(match verified.sub {
                    Some(serde_json::Value::String(sub)) if !sub.trim().is_empty() => Some(sub),
                    _ => None,
                })
            }),
        )))
    }
}
