//! The range headers `X-Caliopen-IL: min;max` (importance level, −10..10) and
//! `X-Caliopen-PI: min;max` (privacy index, 0..100), read once for every
//! operation that takes them, as the original read them
//! (`go.server/operations/helpers.go`, `GetImportanceLevel`, `GetPrivacyIndex`):
//! never refused. A missing header, a value that is not two parts separated by
//! `;`, or one longer than [`MAX_VALUE`] bytes gives the whole default range; an
//! end that is not an integer or is out of bounds gives that end's default;
//! `min > max` becomes `min = max`. Only the first header of a name counts.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

/// Longest header value read: an integer pair is a few bytes, so anything longer
/// is garbage and taken as absent (the original parsed values of any length;
/// the answer is the same unless an end is written with hundreds of leading zeros).
pub const MAX_VALUE: usize = 64;

/// The ranges a request asks for, defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranges {
    /// Inclusive importance level range, within −10..=10.
    pub il: (i8, i8),
    /// Inclusive privacy index range, within 0..=100.
    pub pi: (u8, u8),
}

impl Ranges {
    /// The ranges `headers` ask for.
    pub fn of(headers: &HeaderMap) -> Self {
        let (il_min, il_max) = range(headers, "x-caliopen-il", -10, 10);
        let (pi_min, pi_max) = range(headers, "x-caliopen-pi", 0, 100);
        // Both ends are within the bounds, so the narrowing is exact.
        Self {
            il: (il_min as i8, il_max as i8),
            pi: (pi_min as u8, pi_max as u8),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ranges {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Self::of(&parts.headers))
    }
}

/// The range header `name`, ends bounded by `lo..=hi` (see the module docs).
fn range(headers: &HeaderMap, name: &str, lo: i64, hi: i64) -> (i64, i64) {
    let Some(text) = headers
        .get(name)
        .filter(|v| v.len() <= MAX_VALUE)
        .and_then(|v| v.to_str().ok())
    else {
        return (lo, hi);
    };
    let mut parts = text.split(';');
    let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
        return (lo, hi);
    };
    // Go's `strconv.Atoi`: an optional sign and digits, nothing else; as Rust's.
    let end = |s: &str, default: i64| {
        s.parse::<i64>()
            .ok()
            .filter(|n| (lo..=hi).contains(n))
            .unwrap_or(default)
    };
    let (to, from) = (end(b, hi), end(a, lo));
    (from.min(to), to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn il(value: &[u8]) -> (i8, i8) {
        let mut headers = HeaderMap::new();
        headers.insert("x-caliopen-il", HeaderValue::from_bytes(value).unwrap());
        Ranges::of(&headers).il
    }

    /// Cases worked from `GetImportanceLevel` (`go.server/operations/helpers.go`).
    #[test]
    fn bad_ends_fall_back_to_their_defaults() {
        assert_eq!(Ranges::of(&HeaderMap::new()).il, (-10, 10));
        assert_eq!(Ranges::of(&HeaderMap::new()).pi, (0, 100));
        assert_eq!(il(b"-3;4"), (-3, 4));
        assert_eq!(il(b"+3;4"), (3, 4));
        assert_eq!(il(b"x;4"), (-10, 4));
        assert_eq!(il(b"2;y"), (2, 10));
        assert_eq!(il(b" 2;4"), (-10, 4), "Atoi takes no spaces");
        assert_eq!(il(b"-11;11"), (-10, 10));
        assert_eq!(il(b"99999999999999999999999;3"), (-10, 3));
        assert_eq!(il(b"5;2"), (2, 2), "min > max → min = max");
        assert_eq!(il(b"5"), (-10, 10));
        assert_eq!(il(b"1;2;3"), (-10, 10));
        assert_eq!(il(b";"), (-10, 10));
        assert_eq!(il(b"\xff;\xfe"), (-10, 10));
        assert_eq!(il("1;".repeat(5000).as_bytes()), (-10, 10));
        assert_eq!(
            il(format!("1;{}", "9".repeat(10_000)).as_bytes()),
            (-10, 10)
        );
    }
}
