//! Client accounts: credentials, bind limits, source networks and submit rate.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use ipnet::IpNet;
use smpp::session::BindType;
use smpp::CommandStatus;

use crate::config::{AccountConfig, BindTypeName};
use crate::message::{AccountId, Class};
use crate::routing::throttle::Throttle;

/// One account, as loaded.
#[derive(Debug)]
pub struct Account {
    /// Its index.
    pub id: AccountId,
    /// Its SMPP `system_id`.
    pub system_id: String,
    password_hash: String,
    bind_types: Vec<BindType>,
    max_binds: usize,
    networks: Vec<IpNet>,
    /// Class when nothing else gives one.
    pub default_class: Class,
    /// Country code for national numbers.
    pub default_country: Option<String>,
    throttle: Throttle,
    binds: AtomicUsize,
    /// SHA-256 digests of its HTTP API keys.
    pub api_key_hashes: Vec<[u8; 32]>,
    /// Where receipts of HTTP messages (and MO, when set) go by default.
    pub callback_url: Option<String>,
    /// Key of its webhook signatures.
    pub webhook_secret: Option<String>,
}

fn bind_type(name: BindTypeName) -> BindType {
    match name {
        BindTypeName::Transmitter => BindType::Transmitter,
        BindTypeName::Receiver => BindType::Receiver,
        BindTypeName::Transceiver => BindType::Transceiver,
    }
}

impl Account {
    /// An account from its config entry.
    pub fn new(id: AccountId, c: &AccountConfig) -> Account {
        let burst = c.burst.unwrap_or_else(|| (c.rate.ceil() as u32).max(1));
        Account {
            id,
            system_id: c.system_id.get_ref().clone(),
            password_hash: c.password_hash.get_ref().clone(),
            bind_types: c.bind_types.iter().copied().map(bind_type).collect(),
            max_binds: c.max_binds,
            networks: c.allowed_networks.clone(),
            default_class: c.default_class,
            default_country: c.default_country.clone(),
            throttle: Throttle::new(c.rate, burst),
            binds: AtomicUsize::new(0),
            api_key_hashes: c
                .api_key_hashes
                .iter()
                .filter_map(|h| parse_digest(h.get_ref()))
                .collect(),
            callback_url: c.callback_url.as_ref().map(|u| u.get_ref().clone()),
            webhook_secret: c.webhook_secret.clone(),
        }
    }

    /// Checks a password against the stored argon2 hash, on its first [`SIGNIFICANT_PASSWORD_OCTETS`] octets. Slow by
    /// design: call it off the async threads.
    pub fn verify_password(&self, password: &[u8]) -> bool {
        PasswordHash::new(&self.password_hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(significant(password), &h)
                .is_ok()
        })
    }

    /// Checks everything about a bind but the password, and takes a bind slot; give it back with [`Account::release`].
    pub fn admit(&self, bind: BindType, peer: IpAddr) -> Result<(), CommandStatus> {
        if !self.networks.is_empty() && !self.networks.iter().any(|n| n.contains(&peer)) {
            return Err(CommandStatus::ESME_RBINDFAIL);
        }
        if !self.bind_types.contains(&bind) {
            return Err(CommandStatus::ESME_RBINDFAIL);
        }
        if self.binds.fetch_add(1, Ordering::AcqRel) >= self.max_binds {
            self.release();
            return Err(CommandStatus::ESME_RBINDFAIL);
        }
        Ok(())
    }

    /// Gives back a bind slot taken by [`Account::admit`].
    pub fn release(&self) {
        self.binds.fetch_sub(1, Ordering::AcqRel);
    }

    /// Takes `n` permits of the submit rate, or refuses the whole submit.
    pub fn try_submit(&self, n: usize) -> bool {
        // Every segment is a message at the carrier; a multi-part message takes one permit per part as its parts arrive.
        (0..n).all(|_| self.throttle.try_acquire().is_ok())
    }

    /// Binds currently held.
    pub fn binds(&self) -> usize {
        self.binds.load(Ordering::Relaxed)
    }
}

/// How many octets of an SMPP password count. SMPP 3.4 §4.1.1 gives the field 8 octets (9 with the NUL), and clients
/// differ: smpplib and Kannel cut a longer password to 8, others send it whole. Comparing the first 8 octets makes a
/// configured `demo-secret` bind from both kinds of client; a longer password adds nothing beyond its eighth octet.
pub const SIGNIFICANT_PASSWORD_OCTETS: usize = 8;

fn significant(password: &[u8]) -> &[u8] {
    &password[..password.len().min(SIGNIFICANT_PASSWORD_OCTETS)]
}

/// Makes an argon2id PHC string for a password (for `sluice hash-password`), over its significant octets.
pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(significant(password.as_bytes()), &salt)
        .expect("argon2 with default parameters")
        .to_string()
}

/// The SHA-256 digest of an API key, as stored in `api_key_hashes`.
pub fn api_key_digest(key: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(key.as_bytes()).into()
}

/// Lower-case hex of octets.
pub fn hex(octets: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(octets.len() * 2);
    for b in octets {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 0xF)] as char);
    }
    s
}

/// A digest from its 64 hex digits.
fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A new random API key (256 bits, URL-safe) and the hash to put in `api_key_hashes`.
pub fn generate_api_key() -> (String, String) {
    use rand::Rng;
    let octets: [u8; 32] = rand::rng().random();
    let key = format!("sk_{}", hex(&octets));
    let hash = hex(&api_key_digest(&key));
    (key, hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password("demo-secret");
        let config: AccountConfig =
            toml::from_str(&format!("system_id = \"demo\"\npassword_hash = \"{hash}\"")).unwrap();
        let a = Account::new(AccountId(0), &config);
        assert!(a.verify_password(b"demo-secret"));
        // A client that cuts the password to the spec's 8 octets (smpplib, Kannel) binds too.
        assert!(a.verify_password(b"demo-sec"));
        assert!(!a.verify_password(b"demo-seC"));
        assert!(!a.verify_password(b"demo-se"));
    }

    #[test]
    fn api_key_hashes_are_sha256_hex_and_parse_back() {
        let h = hex(&api_key_digest("demo-api-key"));
        assert_eq!(h.len(), 64);
        assert_eq!(parse_digest(&h), Some(api_key_digest("demo-api-key")));
        assert_eq!(parse_digest("zz"), None);
        let (key, hash) = generate_api_key();
        assert_eq!(hex(&api_key_digest(&key)), hash);
    }

    #[test]
    fn binds_are_limited_and_slots_come_back() {
        let config: AccountConfig =
            toml::from_str("system_id = \"a\"\npassword_hash = \"x\"\nmax_binds = 1\nallowed_networks = [\"10.0.0.0/8\"]").unwrap();
        let a = Account::new(AccountId(0), &config);
        let local: IpAddr = "10.1.2.3".parse().unwrap();
        a.admit(BindType::Transceiver, local).unwrap();
        assert_eq!(
            a.admit(BindType::Transceiver, local).unwrap_err(),
            CommandStatus::ESME_RBINDFAIL
        );
        a.release();
        assert!(a.admit(BindType::Transceiver, local).is_ok());
        assert!(a
            .admit(BindType::Transceiver, "192.0.2.1".parse().unwrap())
            .is_err());
    }
}
