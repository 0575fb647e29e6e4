//! Rate limits (GCRA, by governor) for accounts and carriers. The clock is a type parameter, so tests use a fake one.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

/// A rate limit: `rate` messages per second with bursts of up to `burst`.
pub struct Throttle<C: Clock = DefaultClock> {
    limiter: RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<C::Instant>>,
    clock: C,
}

impl<C: Clock> std::fmt::Debug for Throttle<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Throttle")
    }
}

fn quota(rate: f64, burst: u32) -> Quota {
    // A rate below one per hour is treated as one per hour: governor needs a finite period.
    let period = Duration::from_secs_f64((1.0 / rate.max(1.0 / 3600.0)).max(1e-9));
    Quota::with_period(period)
        .expect("period is positive")
        .allow_burst(NonZeroU32::new(burst.max(1)).expect("burst is at least 1"))
}

impl Throttle<DefaultClock> {
    /// A limit on the real clock.
    pub fn new(rate: f64, burst: u32) -> Self {
        Throttle::with_clock(rate, burst, DefaultClock::default())
    }
}

impl<C: Clock + Clone> Throttle<C> {
    /// A limit on the given clock.
    pub fn with_clock(rate: f64, burst: u32, clock: C) -> Self {
        Throttle {
            limiter: RateLimiter::direct_with_clock(quota(rate, burst), clock.clone()),
            clock,
        }
    }

    /// Takes one permit now, or says how long until one is free.
    pub fn try_acquire(&self) -> Result<(), Duration> {
        self.limiter
            .check()
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    #[test]
    fn allows_the_burst_then_one_per_period() {
        let clock = FakeRelativeClock::default();
        let t = Throttle::with_clock(10.0, 3, clock.clone());
        assert!((0..3).all(|_| t.try_acquire().is_ok()));
        let wait = t.try_acquire().unwrap_err();
        assert_eq!(wait, Duration::from_millis(100));
        clock.advance(Duration::from_millis(100));
        assert!(t.try_acquire().is_ok());
        assert!(t.try_acquire().is_err());
    }
}
