//! The sender-ID registry: which sender names an account owns, what each destination country allows for alphanumeric
//! senders, and which registered sender IDs each carrier accepts.

use std::collections::{HashMap, HashSet};

use crate::message::{AccountId, CarrierId};

/// What a country allows for alphanumeric sender IDs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlphaPolicy {
    /// Any alphanumeric sender the account owns.
    Allowed,
    /// Only sender IDs registered with the carrier that delivers (the carrier's `sender_ids`).
    Registered,
    /// Alphanumeric senders are replaced by this numeric sender.
    Replaced(String),
}

/// The sender after the registry's checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SenderDecision {
    /// Send with the sender as given; `alphanumeric` says whether carriers must accept it by name.
    Keep {
        /// True for a sender name rather than a number.
        alphanumeric: bool,
        /// True when the destination country only takes sender IDs registered with the carrier.
        needs_registration: bool,
    },
    /// Send with this numeric sender instead.
    Replace(String),
}

/// Why a sender may not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SenderError {
    /// The account does not own this sender ID.
    #[error("sender {sender:?} is not registered for this account")]
    NotOwned {
        /// The sender as submitted.
        sender: String,
    },
    /// Empty, or an alphanumeric sender longer than 11 characters (GSM 03.40 §9.1.2.5) or with characters outside A-Z a-z 0-9 space . - _ &.
    #[error("sender {sender:?} is not a valid sender: use up to 11 letters and digits, or a number of up to 15 digits")]
    Invalid {
        /// The sender as submitted.
        sender: String,
    },
}

/// The registry.
#[derive(Clone, Debug, Default)]
pub struct SenderRegistry {
    /// Country code (E.164 prefix) → policy; the longest matching prefix applies.
    countries: Vec<(String, AlphaPolicy)>,
    /// Policy for countries not listed.
    default_policy: Option<AlphaPolicy>,
    /// Sender IDs each account owns; an account listed with `*` may use any.
    owned: HashMap<AccountId, HashSet<String>>,
    /// Registered sender IDs each carrier accepts; a carrier not listed accepts none that need registration.
    carrier_accepts: HashMap<CarrierId, HashSet<String>>,
}

impl SenderRegistry {
    /// A registry; `default_policy` applies to countries not listed (`Allowed` when `None`).
    pub fn new(default_policy: Option<AlphaPolicy>) -> Self {
        SenderRegistry {
            default_policy,
            ..Default::default()
        }
    }

    /// Sets a country's policy.
    pub fn set_country(&mut self, country_code: &str, policy: AlphaPolicy) {
        self.countries.retain(|(cc, _)| cc != country_code);
        self.countries.push((country_code.to_string(), policy));
        self.countries
            .sort_by_key(|(cc, _)| std::cmp::Reverse(cc.len()));
    }

    /// Records the sender IDs an account owns (case-insensitive; `*` for any).
    pub fn set_owned(&mut self, account: AccountId, senders: impl IntoIterator<Item = String>) {
        self.owned.insert(
            account,
            senders
                .into_iter()
                .map(|s| s.to_ascii_uppercase())
                .collect(),
        );
    }

    /// Records the registered sender IDs a carrier accepts (case-insensitive; `*` for any).
    pub fn set_carrier_accepts(
        &mut self,
        carrier: CarrierId,
        senders: impl IntoIterator<Item = String>,
    ) {
        self.carrier_accepts.insert(
            carrier,
            senders
                .into_iter()
                .map(|s| s.to_ascii_uppercase())
                .collect(),
        );
    }

    fn policy_for(&self, dest: &str) -> &AlphaPolicy {
        self.countries
            .iter()
            .find(|(cc, _)| dest.starts_with(cc.as_str()))
            .map(|(_, p)| p)
            .or(self.default_policy.as_ref())
            .unwrap_or(&AlphaPolicy::Allowed)
    }

    /// Checks a sender for a message from `account` to `dest` (E.164).
    pub fn check(
        &self,
        account: AccountId,
        sender: &str,
        dest: &str,
    ) -> Result<SenderDecision, SenderError> {
        let alphanumeric = !sender
            .trim_start_matches('+')
            .bytes()
            .all(|b| b.is_ascii_digit());
        let valid = if alphanumeric {
            (1..=11).contains(&sender.len())
                && sender
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b" .-_&".contains(&b))
        } else {
            (1..=16).contains(&sender.len())
        };
        if !valid {
            return Err(SenderError::Invalid {
                sender: sender.to_string(),
            });
        }
        let owned = self.owned.get(&account);
        let owns = owned
            .is_some_and(|set| set.contains("*") || set.contains(&sender.to_ascii_uppercase()));
        if !owns {
            return Err(SenderError::NotOwned {
                sender: sender.to_string(),
            });
        }
        if !alphanumeric {
            return Ok(SenderDecision::Keep {
                alphanumeric: false,
                needs_registration: false,
            });
        }
        Ok(match self.policy_for(dest) {
            AlphaPolicy::Allowed => SenderDecision::Keep {
                alphanumeric: true,
                needs_registration: false,
            },
            AlphaPolicy::Registered => SenderDecision::Keep {
                alphanumeric: true,
                needs_registration: true,
            },
            AlphaPolicy::Replaced(numeric) => SenderDecision::Replace(numeric.clone()),
        })
    }

    /// True when `carrier` can carry a message with this sender under this decision.
    pub fn carrier_can_carry(
        &self,
        carrier: CarrierId,
        sender: &str,
        decision: &SenderDecision,
    ) -> bool {
        match decision {
            SenderDecision::Keep {
                needs_registration: true,
                ..
            } => self
                .carrier_accepts
                .get(&carrier)
                .is_some_and(|set| set.contains("*") || set.contains(&sender.to_ascii_uppercase())),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> SenderRegistry {
        let mut r = SenderRegistry::new(None);
        r.set_owned(
            AccountId(0),
            ["ACME".to_string(), "4915100000000".to_string()],
        );
        r.set_country("91", AlphaPolicy::Registered);
        r.set_country("1", AlphaPolicy::Replaced("18005550100".into()));
        r.set_carrier_accepts(CarrierId(1), ["acme".to_string()]);
        r
    }

    #[test]
    fn an_account_may_only_use_sender_ids_it_owns() {
        let r = registry();
        assert!(r.check(AccountId(0), "ACME", "4915112345678").is_ok());
        assert!(r.check(AccountId(0), "acme", "4915112345678").is_ok());
        assert_eq!(
            r.check(AccountId(0), "BANK", "4915112345678"),
            Err(SenderError::NotOwned {
                sender: "BANK".into()
            })
        );
        assert!(r.check(AccountId(1), "ACME", "4915112345678").is_err());
    }

    #[test]
    fn countries_that_need_registration_only_take_carriers_that_registered_the_sender() {
        let r = registry();
        let d = r.check(AccountId(0), "ACME", "919812345678").unwrap();
        assert_eq!(
            d,
            SenderDecision::Keep {
                alphanumeric: true,
                needs_registration: true
            }
        );
        assert!(r.carrier_can_carry(CarrierId(1), "ACME", &d));
        assert!(!r.carrier_can_carry(CarrierId(2), "ACME", &d));
    }

    #[test]
    fn countries_that_replace_alphanumeric_senders_get_the_numeric_one() {
        let d = registry()
            .check(AccountId(0), "ACME", "14155550100")
            .unwrap();
        assert_eq!(d, SenderDecision::Replace("18005550100".into()));
    }

    #[test]
    fn numeric_senders_need_no_registration() {
        let r = registry();
        let d = r
            .check(AccountId(0), "4915100000000", "919812345678")
            .unwrap();
        assert!(r.carrier_can_carry(CarrierId(2), "4915100000000", &d));
    }

    #[test]
    fn overlong_alphanumeric_senders_are_invalid() {
        assert!(matches!(
            registry().check(AccountId(0), "ACMEBANKLTD12", "4915112345678"),
            Err(SenderError::Invalid { .. })
        ));
    }
}
