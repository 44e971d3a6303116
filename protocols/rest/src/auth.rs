//! Who is calling: the [`Caller`] extractor.
//!
//! Clients send `Authorization: Bearer base64(user_id:access_token)` (the original
//! web client) or `Authorization: Basic base64(user_id:access_token)` (the spec's
//! `basicAuth`), plus `X-Caliopen-Device-ID`. Core checks that the token is live
//! and was issued to that device. Over-long credentials are refused before
//! anything is decoded or looked up.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine as _;
use caliopen_core::service::auth::{AuthContext, MAX_DEVICE_ID};
use caliopen_core::service::validate::MAX_TOKEN;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

pub const DEVICE_HEADER: &str = "x-caliopen-device-id";

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller(pub AuthContext);

impl Caller {
    pub fn user_id(&self) -> Uuid {
        self.0.user_id
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization header"))?
            .to_str()
            .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
        let (user_id, token) = parse_authorization(header)?;
        let device = parts
            .headers
            .get(DEVICE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| "default".to_owned());
        if device.len() > MAX_DEVICE_ID {
            return Err(ApiError::unauthorized(format!(
                "{DEVICE_HEADER} must be at most {MAX_DEVICE_ID} bytes long"
            )));
        }
        let ctx = state.core.authenticate(user_id, &token, &device).await?;
        Ok(Caller(ctx))
    }
}

/// `Bearer|Basic base64(user_id:token)` → (user id, token).
pub fn parse_authorization(header: &str) -> Result<(Uuid, String), ApiError> {
    let bad = || {
        ApiError::unauthorized(
            "malformed Authorization header: expected `Bearer base64(user_id:access_token)`",
        )
    };
    let (scheme, value) = header.trim().split_once(' ').ok_or_else(bad)?;
    // base64 of a 36-character id, a colon and a token of at most MAX_TOKEN bytes.
    if value.trim().len() > (37 + MAX_TOKEN).div_ceil(3) * 4 {
        return Err(ApiError::unauthorized(format!(
            "malformed Authorization header: the token must be at most {MAX_TOKEN} bytes long"
        )));
    }
    if !scheme.eq_ignore_ascii_case("bearer") && !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (user, token) = decoded.split_once(':').ok_or_else(bad)?;
    let user = user.parse::<Uuid>().map_err(|_| bad())?;
    if token.is_empty() {
        return Err(bad());
    }
    Ok((user, token.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_and_basic() {
        let id = Uuid::now_v7();
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{id}:tok"));
        assert_eq!(
            parse_authorization(&format!("Bearer {b64}")).unwrap(),
            (id, "tok".into())
        );
        assert_eq!(
            parse_authorization(&format!("basic {b64}")).unwrap(),
            (id, "tok".into())
        );
        for bad in [
            "Bearer",
            "Token abc",
            "Bearer !!!",
            &format!(
                "Bearer {}",
                base64::engine::general_purpose::STANDARD.encode("nouser")
            ),
        ] {
            assert!(parse_authorization(bad).is_err(), "{bad}");
        }
    }
}
