//! Input rules shared by the services.

use crate::error::{CoreError, CoreResult};

/// Names no user may take: they are role addresses of every mail domain.
const RESERVED_USERNAMES: &[&str] = &[
    "abuse",
    "admin",
    "administrator",
    "hostmaster",
    "mailer-daemon",
    "nobody",
    "noreply",
    "no-reply",
    "postmaster",
    "root",
    "security",
    "support",
    "webmaster",
    "caliopen",
];

/// Checks a username against the original Caliopen rules: 3 to 42 characters;
/// letters (any script), digits, and `.`, `-`, `_` between them; starts with a
/// letter or digit; no two separators in a row; not a reserved role name. The
/// answer is the canonical (lower-case) form that uniqueness is checked on.
pub fn username(name: &str) -> CoreResult<String> {
    let bad = |reason: &str| Err(CoreError::invalid("username", reason));
    let count = name.chars().count();
    if !(3..=42).contains(&count) {
        return bad("must be 3 to 42 characters long");
    }
    let mut previous_separator = true;
    for c in name.chars() {
        let separator = matches!(c, '.' | '-' | '_');
        if separator {
            if previous_separator {
                return bad("must start with a letter or digit and not repeat `.`, `-` or `_`");
            }
        } else if !c.is_alphanumeric() {
            return bad(&format!("must not contain `{}`", c.escape_default()));
        }
        previous_separator = separator;
    }
    if previous_separator {
        return bad("must end with a letter or digit");
    }
    let canonical = name.to_lowercase();
    if RESERVED_USERNAMES.contains(&canonical.as_str()) {
        return bad("is reserved");
    }
    Ok(canonical)
}

/// A password must be 8 to 1024 characters; nothing else is imposed.
pub fn password(field: &str, password: &str) -> CoreResult<()> {
    let count = password.chars().count();
    if count < 8 {
        return Err(CoreError::invalid(
            field,
            "must be at least 8 characters long",
        ));
    }
    if count > 1024 {
        return Err(CoreError::invalid(
            field,
            "must be at most 1024 characters long",
        ));
    }
    Ok(())
}

/// Most bytes of a username given to find an account (login, password reset):
/// more than any valid username (42 characters of at most 4 bytes each).
pub const MAX_USERNAME_INPUT: usize = 256;

/// Most bytes of a token given back by a client (access, refresh, validation and
/// reset tokens are 43 characters).
pub const MAX_TOKEN: usize = 256;

/// A username given to find an account, not to create one: required and bounded
/// ([`MAX_USERNAME_INPUT`]), answered in the lower case usernames are looked up by.
pub fn username_input(name: &str) -> CoreResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CoreError::invalid("username", "is required"));
    }
    if name.len() > MAX_USERNAME_INPUT {
        return Err(CoreError::invalid(
            "username",
            format!("must be at most {MAX_USERNAME_INPUT} bytes long"),
        ));
    }
    Ok(name.to_lowercase())
}

/// A password given to be checked: required and no longer than a password can be
/// (see [`password`]); shorter ones are simply wrong.
pub fn password_input(field: &str, password: &str) -> CoreResult<()> {
    if password.is_empty() {
        return Err(CoreError::invalid(field, "is required"));
    }
    if password.chars().count() > 1024 {
        return Err(CoreError::invalid(
            field,
            "must be at most 1024 characters long",
        ));
    }
    Ok(())
}

/// A token given back by a client: required and at most [`MAX_TOKEN`] bytes.
pub fn token(field: &str, token: &str) -> CoreResult<()> {
    if token.is_empty() {
        return Err(CoreError::invalid(field, "is required"));
    }
    if token.len() > MAX_TOKEN {
        return Err(CoreError::invalid(
            field,
            format!("must be at most {MAX_TOKEN} bytes long"),
        ));
    }
    Ok(())
}

/// A mail address `local@domain`, returned in lower case. Deliberately plain: no
/// comments, no quoted local parts with spaces, a domain with a dot or `localhost`.
pub fn email(field: &str, address: &str) -> CoreResult<String> {
    let bad = |reason: &str| Err(CoreError::invalid(field, format!("`{address}` {reason}")));
    let address = address.trim();
    if address.len() > 254 {
        return bad("is longer than 254 characters");
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return bad("is not a mail address (no @)");
    };
    if local.is_empty() || local.len() > 64 {
        return bad("has an empty or too long local part");
    }
    if domain.is_empty()
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return bad("has an invalid domain");
    }
    if address
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c))
    {
        return bad("contains a character not allowed in an address");
    }
    Ok(address.to_lowercase())
}

/// A free-text field: at most `max` characters, no control characters but tab/newline.
pub fn text(field: &str, value: &str, max: usize) -> CoreResult<()> {
    if value.chars().count() > max {
        return Err(CoreError::invalid(
            field,
            format!("must be at most {max} characters long"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(CoreError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Limits of list requests.
pub fn page(
    limit: Option<i64>,
    offset: Option<i64>,
    default: usize,
    max: usize,
) -> CoreResult<(usize, usize)> {
    let limit = match limit {
        None => default,
        Some(l) if l < 0 => return Err(CoreError::invalid("limit", "must not be negative")),
        Some(l) => usize::try_from(l).unwrap_or(usize::MAX).min(max),
    };
    let offset = match offset {
        None => 0,
        Some(o) if o < 0 => return Err(CoreError::invalid("offset", "must not be negative")),
        Some(o) => usize::try_from(o).unwrap_or(usize::MAX),
    };
    Ok((limit, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(username("Alice").unwrap(), "alice");
        assert_eq!(
            username("jean-françois.dupont").unwrap(),
            "jean-françois.dupont"
        );
        assert_eq!(username("Ωmega_7").unwrap(), "ωmega_7");
        for bad in [
            "ab",
            ".alice",
            "alice.",
            "al..ice",
            "al ice",
            "al@ice",
            "postmaster",
            &"a".repeat(43),
        ] {
            assert!(username(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(email("e", " Bob@Example.ORG ").unwrap(), "bob@example.org");
        for bad in [
            "bob",
            "@x.org",
            "bob@",
            "bob@.org",
            "bo b@x.org",
            "bob@x..org",
            "<bob@x.org>",
        ] {
            assert!(email("e", bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn pages() {
        assert_eq!(page(None, None, 20, 100).unwrap(), (20, 0));
        assert_eq!(page(Some(1000), Some(5), 20, 100).unwrap(), (100, 5));
        assert!(page(Some(-1), None, 20, 100).is_err());
        assert!(page(None, Some(-1), 20, 100).is_err());
    }
}
