//! Twilio request signatures (`X-Twilio-Signature`).
//!
//! The signed string is the full URL exactly as Twilio requested it followed by
//! every POST parameter, sorted by name, as `name` + `value` with no separators.
//! The signature is base64(HMAC-SHA1(auth_token, that string)).

use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

type HmacSha1 = Hmac<Sha1>;

/// Computes the signature Twilio would send for `url` and `params`.
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // Twilio sorts by name and, for repeated names, keeps values in sorted order too.
    sorted.sort();
    let mut mac =
        HmacSha1::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks `signature` in constant time. An empty or missing signature never matches.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    if signature.is_empty() || auth_token.is_empty() {
        return false;
    }
    let expected = sign(auth_token, url, params);
    expected.as_bytes().ct_eq(signature.as_bytes()).into()
}

/// Whether any of `tokens` signed `params` under any of `urls` (the auth
/// token and, during a rotation, the secondary; the URL with and without the
/// fragment we added).
pub fn verify_any<'t>(
    tokens: impl IntoIterator<Item = &'t str>,
    urls: &[&str],
    params: &[(String, String)],
    signature: &str,
) -> bool {
    tokens
        .into_iter()
        .any(|token| urls.iter().any(|url| verify(token, url, params, signature)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn matches_twilios_published_example() {
        let params = p(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(sign("12345", url, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify(
            "12345",
            url,
            &params,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
    }

    #[test]
    fn order_of_params_does_not_matter_but_values_do() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let a = p(&[("To", "+18005551212"), ("CallSid", "CA1")]);
        let b = p(&[("CallSid", "CA1"), ("To", "+18005551212")]);
        assert_eq!(sign("t", url, &a), sign("t", url, &b));
        let sig = sign("t", url, &a);
        assert!(!verify(
            "t",
            url,
            &p(&[("CallSid", "CA2"), ("To", "+18005551212")]),
            &sig
        ));
        assert!(!verify(
            "t",
            "https://mycompany.com/myapp.php?foo=1",
            &a,
            &sig
        ));
        assert!(!verify("other", url, &a, &sig));
        assert!(!verify("t", url, &a, ""));
    }
}
