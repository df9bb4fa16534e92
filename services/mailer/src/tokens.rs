//! Signed tracking tokens: `KID.PURPOSE.MESSAGE.VARIANT.SIGNATURE`, the signature the first
//! 16 bytes of HMAC-SHA256(key KID, "KID.PURPOSE.MESSAGE.VARIANT") in hex. Each token does
//! one thing (an open, a click, an unsubscribe, a conversion): the conversion token a click
//! hands the landing page cannot unsubscribe the customer or fake their clicks. Keys rotate: new tokens are signed
//! with the first key, old ones still verify while their key is listed. Comparison is in
//! constant time, so a forger learns nothing from how fast a guess fails.

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

/// What a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Open,
    Click,
    Unsubscribe,
    Convert,
}

impl Purpose {
    fn code(self) -> &'static str {
        match self {
            Purpose::Open => "o",
            Purpose::Click => "c",
            Purpose::Unsubscribe => "u",
            Purpose::Convert => "v",
        }
    }
}

/// What a token vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claims {
    pub message_id: Uuid,
    pub variant_id: i64,
}

/// The HMAC keys, by id.
#[derive(Clone)]
pub struct TrackingKeys {
    keys: Vec<(String, Vec<u8>)>,
}

impl fmt::Debug for TrackingKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        write!(f, "TrackingKeys({ids:?})")
    }
}

impl FromStr for TrackingKeys {
    type Err = String;

    /// `kid:secret,kid:secret`: ids of 1 to 16 letters or digits, secrets of 32+ characters.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let mut keys = Vec::new();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, secret) = entry
                .split_once(':')
                .ok_or_else(|| "each entry must be kid:secret".to_owned())?;
            if id.is_empty() || id.len() > 16 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(format!("key id '{id}' must be 1 to 16 letters or digits"));
            }
            if secret.len() < 32 {
                return Err(format!(
                    "the secret of key '{id}' must be at least 32 characters"
                ));
            }
            keys.push((id.to_owned(), secret.as_bytes().to_vec()));
        }
        if keys.is_empty() {
            return Err("at least one kid:secret".to_owned());
        }
        Ok(TrackingKeys { keys })
    }
}

impl TrackingKeys {
    /// A token for `claims` and `purpose`, signed with the current (first) key.
    pub fn sign(&self, claims: Claims, purpose: Purpose) -> String {
        let (id, key) = &self.keys[0];
        let body = format!(
            "{id}.{}.{}.{}",
            purpose.code(),
            claims.message_id.simple(),
            claims.variant_id
        );
        format!("{body}.{}", hex::encode(signature(key, &body)))
    }

    /// The claims of a genuine token for `purpose`; None for anything forged, altered,
    /// unknown or meant for something else.
    pub fn verify(&self, token: &str, purpose: Purpose) -> Option<Claims> {
        let (body, signature_hex) = token.rsplit_once('.')?;
        let mut parts = body.split('.');
        let (id, code, message, variant) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || code != purpose.code() {
            return None;
        }
        let (_, key) = self.keys.iter().find(|(known, _)| known == id)?;
        let given = hex::decode(signature_hex).ok()?;
        let expected = signature(key, body);
        if given.len() != expected.len() || !bool::from(given.ct_eq(&expected)) {
            return None;
        }
        Some(Claims {
            message_id: Uuid::try_parse(message).ok()?,
            variant_id: variant.parse().ok()?,
        })
    }
}

fn signature(key: &[u8], body: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) {
        mac.update(body.as_bytes());
        out.copy_from_slice(&mac.finalize().into_bytes()[..16]);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const OLD: &str = "k1:0123456789abcdef0123456789abcdef";
    const NEW: &str = "k2:fedcba9876543210fedcba9876543210";

    fn claims() -> Claims {
        Claims {
            message_id: Uuid::from_u128(0x1234),
            variant_id: 7,
        }
    }

    #[test]
    fn a_signed_token_verifies_and_any_change_does_not() {
        let keys: TrackingKeys = NEW.parse().unwrap();
        let token = keys.sign(claims(), Purpose::Click);
        assert_eq!(keys.verify(&token, Purpose::Click), Some(claims()));
        assert_eq!(keys.verify(&token, Purpose::Unsubscribe), None);
        let swapped = token.replacen(".c.", ".u.", 1);
        assert_eq!(keys.verify(&swapped, Purpose::Unsubscribe), None);
        for position in 0..token.len() {
            let mut altered = token.clone().into_bytes();
            altered[position] = if altered[position] == b'0' {
                b'1'
            } else {
                b'0'
            };
            let altered = String::from_utf8(altered).unwrap();
            if altered != token {
                assert_eq!(keys.verify(&altered, Purpose::Click), None, "{altered}");
            }
        }
        assert_eq!(keys.verify("k2.garbage", Purpose::Click), None);
        assert_eq!(keys.verify("", Purpose::Click), None);
    }

    #[test]
    fn rotation_keeps_old_tokens_valid_while_their_key_is_listed() {
        let old: TrackingKeys = OLD.parse().unwrap();
        let token = old.sign(claims(), Purpose::Open);
        let rotated: TrackingKeys = format!("{NEW},{OLD}").parse().unwrap();
        assert_eq!(rotated.verify(&token, Purpose::Open), Some(claims()));
        assert!(rotated.sign(claims(), Purpose::Open).starts_with("k2."));
        let retired: TrackingKeys = NEW.parse().unwrap();
        assert_eq!(retired.verify(&token, Purpose::Open), None);
    }

    #[test]
    fn weak_keys_are_refused() {
        assert!("k1:short".parse::<TrackingKeys>().is_err());
        assert!("".parse::<TrackingKeys>().is_err());
        assert!(
            "bad id:0123456789abcdef0123456789abcdef"
                .parse::<TrackingKeys>()
                .is_err()
        );
    }
}
