//! Routing: which carriers may take a message, in which order.
//!
//! Policy only, no I/O: the route table (longest destination prefix, optionally per account and class, least cost first)
//! and the sender-ID registry (which sender names an account owns, what each country allows, what each carrier accepts).

pub mod e164;
pub mod senders;
pub mod throttle;

use crate::message::{AccountId, CarrierId, Class};

/// One carrier of a route, with its price and share.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteCarrier {
    /// The carrier.
    pub carrier: CarrierId,
    /// Price per segment; the cheapest carrier is tried first.
    pub cost: f64,
    /// Among carriers of equal cost, the higher weight is tried first.
    pub weight: u32,
}

/// One route: a destination prefix, optional account and class filters, and its carriers.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// E.164 digits the destination starts with ("" matches every number).
    pub prefix: String,
    /// Only for these accounts (empty: every account).
    pub accounts: Vec<AccountId>,
    /// Only for these classes (empty: every class).
    pub classes: Vec<Class>,
    /// Carriers in the order they are tried: least cost first, then highest weight.
    pub carriers: Vec<RouteCarrier>,
}

/// The route table.
#[derive(Clone, Debug, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// A table of these routes; each route's carriers are put in least-cost order.
    pub fn new(mut routes: Vec<Route>) -> Self {
        for r in &mut routes {
            r.carriers
                .sort_by(|a, b| a.cost.total_cmp(&b.cost).then(b.weight.cmp(&a.weight)));
        }
        // Longest prefix first; among equal prefixes, routes with filters before catch-alls.
        routes.sort_by_key(|r| {
            (
                std::cmp::Reverse(r.prefix.len()),
                r.accounts.is_empty(),
                r.classes.is_empty(),
            )
        });
        RouteTable { routes }
    }

    /// The carriers for a message, in the order to try them; `None` when no route matches.
    pub fn carriers_for(
        &self,
        dest: &str,
        account: AccountId,
        class: Class,
    ) -> Option<&[RouteCarrier]> {
        self.routes
            .iter()
            .find(|r| {
                dest.starts_with(&r.prefix)
                    && (r.accounts.is_empty() || r.accounts.contains(&account))
                    && (r.classes.is_empty() || r.classes.contains(&class))
            })
            .map(|r| r.carriers.as_slice())
    }

    /// Every route.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rc(c: u16, cost: f64) -> RouteCarrier {
        RouteCarrier {
            carrier: CarrierId(c),
            cost,
            weight: 1,
        }
    }

    fn table() -> RouteTable {
        RouteTable::new(vec![
            Route {
                prefix: "".into(),
                accounts: vec![],
                classes: vec![],
                carriers: vec![rc(0, 0.05)],
            },
            Route {
                prefix: "49".into(),
                accounts: vec![],
                classes: vec![],
                carriers: vec![rc(1, 0.03), rc(2, 0.02)],
            },
            Route {
                prefix: "4915".into(),
                accounts: vec![],
                classes: vec![],
                carriers: vec![rc(3, 0.01)],
            },
            Route {
                prefix: "49".into(),
                accounts: vec![],
                classes: vec![Class::Otp],
                carriers: vec![rc(4, 0.09)],
            },
        ])
    }

    #[test]
    fn the_longest_prefix_wins() {
        let t = table();
        assert_eq!(
            t.carriers_for("4915112345678", AccountId(0), Class::Otp)
                .unwrap()[0]
                .carrier,
            CarrierId(3)
        );
        assert_eq!(
            t.carriers_for("4930123456", AccountId(0), Class::Marketing)
                .unwrap()[0]
                .carrier,
            CarrierId(2)
        );
        assert_eq!(
            t.carriers_for("33612345678", AccountId(0), Class::Marketing)
                .unwrap()[0]
                .carrier,
            CarrierId(0)
        );
    }

    #[test]
    fn a_class_route_beats_a_catch_all_of_the_same_prefix() {
        assert_eq!(
            table()
                .carriers_for("4930123456", AccountId(0), Class::Otp)
                .unwrap()[0]
                .carrier,
            CarrierId(4)
        );
    }

    #[test]
    fn carriers_are_tried_cheapest_first() {
        let t = table();
        let order: Vec<_> = t
            .carriers_for("4930123456", AccountId(0), Class::Marketing)
            .unwrap()
            .iter()
            .map(|c| c.carrier)
            .collect();
        assert_eq!(order, vec![CarrierId(2), CarrierId(1)]);
    }

    #[test]
    fn no_route_means_none() {
        let t = RouteTable::new(vec![Route {
            prefix: "44".into(),
            accounts: vec![],
            classes: vec![],
            carriers: vec![rc(0, 0.0)],
        }]);
        assert!(t
            .carriers_for("4915112345678", AccountId(0), Class::Otp)
            .is_none());
    }
}
