//! Wrong access keys, counted per client (uid) and per card.
//!
//! A wrong CAN or MRZ never locks a card: the card itself counts nothing. What stops a
//! client from guessing a CAN is this: `free_attempts` wrong keys in a row cost nothing;
//! after one more, the next attempt must wait `first_delay`, and each further wrong key
//! doubles the wait up to `max_delay`. A right key clears the count for that client and that card. A client is
//! keyed by uid, so reconnecting does not reset it; a card by its reader and insertion.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::config;

/// Who or what is being counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A local user.
    Client(u32),
    /// A browser page, by its `[[web_client]]` rule (as `web:NAME`).
    Web(String),
    /// A card: its reader, and which insertion on that reader.
    Card(String, u64),
}

#[derive(Debug, Clone, Copy)]
struct Strikes {
    wrong: u32,
    last: Instant,
}

/// Entries idle this long are forgotten, which also bounds the table.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// The most subjects remembered; the oldest go first.
const MAX_SUBJECTS: usize = 10_000;

/// The counters.
#[derive(Debug)]
pub struct Throttle {
    rule: config::Throttle,
    strikes: HashMap<Subject, Strikes>,
}

impl Throttle {
    /// An empty table under `rule`.
    pub fn new(rule: config::Throttle) -> Throttle {
        Throttle {
            rule,
            strikes: HashMap::new(),
        }
    }

    /// Applies a new rule to the counts so far.
    pub fn set_rule(&mut self, rule: config::Throttle) {
        self.rule = rule;
    }

    /// How long `subject` must still wait before its next attempt, if at all.
    pub fn wait(&self, subject: &Subject, now: Instant) -> Option<Duration> {
        let s = self.strikes.get(subject)?;
        if s.wrong <= self.rule.free_attempts
            || now.saturating_duration_since(s.last) >= FORGET_AFTER
        {
            return None;
        }
        let over = s.wrong - self.rule.free_attempts;
        let delay = self
            .rule
            .first_delay
            .saturating_mul(1u32 << (over - 1).min(20))
            .min(self.rule.max_delay);
        let ready = s.last + delay;
        (ready > now).then(|| ready - now)
    }

    /// The longest wait of several subjects.
    pub fn wait_any<'a>(
        &self,
        subjects: impl IntoIterator<Item = &'a Subject>,
        now: Instant,
    ) -> Option<Duration> {
        subjects.into_iter().filter_map(|s| self.wait(s, now)).max()
    }

    /// Records a wrong key for every subject.
    pub fn wrong_key<'a>(&mut self, subjects: impl IntoIterator<Item = &'a Subject>, now: Instant) {
        self.forget_idle(now);
        for subject in subjects {
            let s = self.strikes.entry(subject.clone()).or_insert(Strikes {
                wrong: 0,
                last: now,
            });
            if now.saturating_duration_since(s.last) >= FORGET_AFTER {
                s.wrong = 0;
            }
            s.wrong = s.wrong.saturating_add(1);
            s.last = now;
        }
    }

    /// Records a right key: every subject starts over.
    pub fn right_key<'a>(&mut self, subjects: impl IntoIterator<Item = &'a Subject>) {
        for subject in subjects {
            self.strikes.remove(subject);
        }
    }

    fn forget_idle(&mut self, now: Instant) {
        if self.strikes.len() < MAX_SUBJECTS {
            return;
        }
        self.strikes
            .retain(|_, s| now.saturating_duration_since(s.last) < FORGET_AFTER);
        while self.strikes.len() >= MAX_SUBJECTS {
            let Some(oldest) = self
                .strikes
                .iter()
                .min_by_key(|(_, s)| s.last)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.strikes.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> config::Throttle {
        config::Throttle {
            free_attempts: 3,
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(10),
        }
    }

    #[test]
    fn free_attempts_then_doubling_delays_up_to_the_cap() {
        let mut t = Throttle::new(rule());
        let client = Subject::Client(1000);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(t.wait(&client, t0), None);
            t.wrong_key([&client], t0);
        }
        assert_eq!(t.wait(&client, t0), None, "three wrong keys are free");
        t.wrong_key([&client], t0);
        assert_eq!(t.wait(&client, t0), Some(Duration::from_secs(2)));
        assert_eq!(
            t.wait(&client, t0 + Duration::from_secs(1)),
            Some(Duration::from_secs(1))
        );
        assert_eq!(t.wait(&client, t0 + Duration::from_secs(2)), None);
        t.wrong_key([&client], t0);
        assert_eq!(t.wait(&client, t0), Some(Duration::from_secs(4)));
        t.wrong_key([&client], t0);
        t.wrong_key([&client], t0);
        assert_eq!(t.wait(&client, t0), Some(Duration::from_secs(10)), "capped");
        let card = Subject::Card("R".into(), 1);
        assert_eq!(
            t.wait_any([&client, &card], t0),
            Some(Duration::from_secs(10))
        );
        t.right_key([&client]);
        assert_eq!(t.wait(&client, t0), None, "a right key clears the count");
    }

    #[test]
    fn the_table_is_bounded() {
        let mut t = Throttle::new(rule());
        let now = Instant::now();
        for uid in 0..(MAX_SUBJECTS as u32 + 50) {
            t.wrong_key([&Subject::Client(uid)], now);
        }
        assert!(t.strikes.len() <= MAX_SUBJECTS);
    }
}
