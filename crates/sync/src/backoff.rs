//! Exponential backoff with full jitter: attempt `n` waits a uniformly random time in
//! `[0, min(max, base · 2ⁿ)]` (at least 1 ms).

use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
    rng: fastrand::Rng,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Backoff {
        Backoff {
            base,
            max: max.max(base),
            attempt: 0,
            rng: fastrand::Rng::new(),
        }
    }

    /// The ceiling of the next wait (before jitter).
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The next wait; advances the attempt counter.
    pub fn next_delay(&mut self) -> Duration {
        let cap = u64::try_from(self.ceiling().as_millis()).unwrap_or(u64::MAX);
        self.attempt = self.attempt.saturating_add(1);
        Duration::from_millis(self.rng.u64(1..=cap.max(1)))
    }

    /// After a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn attempt(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_up_to_the_max_and_jitter_stays_below() {
        let mut b = Backoff::new(Duration::from_millis(250), Duration::from_secs(30));
        let mut ceilings = Vec::new();
        for _ in 0..12 {
            let c = b.ceiling();
            let d = b.next_delay();
            assert!(d <= c && d >= Duration::from_millis(1), "{d:?} <= {c:?}");
            ceilings.push(c.as_millis());
        }
        assert_eq!(&ceilings[..4], &[250, 500, 1000, 2000]);
        assert_eq!(*ceilings.last().unwrap_or(&0), 30_000);
        for _ in 0..100 {
            b.next_delay();
        }
        assert_eq!(b.ceiling(), Duration::from_secs(30), "no overflow");
        b.reset();
        assert_eq!(b.ceiling(), Duration::from_millis(250));
    }
}
