//! Bearer tokens with two scopes: `read` (questions) and `write` (pushing events; implies read).

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::ApiState;
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Read,
    Write,
}

/// The accepted tokens. No tokens at all means no authentication (loopback only; the caller
/// decides that).
#[derive(Clone, Default)]
pub struct Tokens {
    tokens: Vec<(Scope, Vec<u8>)>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} configured)", self.tokens.len())
    }
}

impl Tokens {
    pub fn new(tokens: Vec<(Scope, String)>) -> Tokens {
        Tokens {
            tokens: tokens
                .into_iter()
                .map(|(scope, token)| (scope, token.into_bytes()))
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The scope of a presented token, comparing against every configured token in constant
    /// time.
    fn scope_of(&self, presented: &[u8]) -> Option<Scope> {
        let mut best = None;
        for (scope, token) in &self.tokens {
            if bool::from(token.as_slice().ct_eq(presented)) {
                best = best.max(Some(*scope));
            }
        }
        best
    }
}

/// What a request needs: writing events needs `write`, everything else under `/v1` `read`.
fn required_scope(method: &Method, path: &str) -> Option<Scope> {
    if !path.starts_with("/v1/") {
        return None;
    }
    if method == Method::POST && path == "/v1/events" {
        Some(Scope::Write)
    } else {
        Some(Scope::Read)
    }
}

pub async fn require_token(
    State(state): State<ApiState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(needed) = required_scope(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    if state.tokens.is_empty() {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().as_bytes().to_vec());
    let Some(presented) = presented else {
        return unauthorized("no bearer token").into_response();
    };
    match state.tokens.scope_of(&presented) {
        None => unauthorized("the bearer token is not valid").into_response(),
        Some(scope) if scope < needed => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this token may only read; pushing events needs a write token",
        )
        .into_response(),
        Some(_) => next.run(request).await,
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).with_hint(
        "send `Authorization: Bearer <token>` with a token from [server] tokens_env or tokens_file",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_tokens_can_read_and_read_tokens_cannot_write() {
        let tokens = Tokens::new(vec![
            (Scope::Read, "r-token".into()),
            (Scope::Write, "w-token".into()),
        ]);
        assert_eq!(tokens.scope_of(b"r-token"), Some(Scope::Read));
        assert_eq!(tokens.scope_of(b"w-token"), Some(Scope::Write));
        assert_eq!(tokens.scope_of(b"w-toke"), None);
        assert_eq!(tokens.scope_of(b""), None);
        assert_eq!(
            required_scope(&Method::POST, "/v1/events"),
            Some(Scope::Write)
        );
        assert_eq!(required_scope(&Method::POST, "/v1/sql"), Some(Scope::Read));
        assert_eq!(required_scope(&Method::GET, "/healthz"), None);
    }
}
