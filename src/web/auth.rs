//! Reading the API key out of `Authorization`: `Bearer <key>`, or
//! App Connect's API-key convention `Basic base64("<key>:")`.

use base64::Engine;

/// The API key a header value carries, if it is well-formed.
pub fn api_key_from_header(value: &str) -> Option<String> {
    let (scheme, credentials) = value.trim().split_once(' ')?;
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return (!credentials.is_empty()).then(|| credentials.to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials)
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        // The key is the user part; App Connect leaves the password empty.
        let key = decoded
            .split_once(':')
            .map_or(decoded.as_str(), |(user, _)| user);
        return (!key.is_empty()).then(|| key.to_owned());
    }
    None
}

/// `Authorization: Basic …` for `key`, as App Connect sends it.
pub fn basic_header_for_key(key: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
    format!("Basic {encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_and_basic_carry_the_same_key() {
        assert_eq!(api_key_from_header("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(api_key_from_header("bearer  abc ").as_deref(), Some("abc"));
        let basic = basic_header_for_key("mockcrm-dev-key");
        assert_eq!(basic, "Basic bW9ja2NybS1kZXYta2V5Og==");
        assert_eq!(
            api_key_from_header(&basic).as_deref(),
            Some("mockcrm-dev-key")
        );
    }

    #[test]
    fn malformed_headers_carry_no_key() {
        for value in [
            "",
            "Bearer",
            "Bearer ",
            "Basic !!!",
            "Basic Og==",
            "Token abc",
        ] {
            assert_eq!(api_key_from_header(value), None, "{value:?}");
        }
    }
}
