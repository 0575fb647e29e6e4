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
