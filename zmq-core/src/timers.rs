//! Timers for application loops (`zmq_timers_*`).
//!
//! libzmq: src/timers.cpp. Time is passed in as milliseconds from a monotonic
//! clock, so the structure is deterministic and tested without sleeping. The
//! payload `T` is what the caller needs to run a timer (the C API stores the
//! handler and its argument).

use std::collections::{BTreeMap, HashSet};

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug)]
struct Timer<T> {
    id: i32,
    interval: u64,
    payload: T,
}

/// A set of timers, ordered by expiry (ties by insertion order).
#[derive(Debug)]
pub struct Timers<T> {
    /// Keyed by (expiry in ms, insertion sequence).
    timers: BTreeMap<(u64, u64), Timer<T>>,
    /// Cancelled timers still in `timers`, removed lazily as libzmq does.
    cancelled: HashSet<i32>,
    next_id: i32,
    seq: u64,
}

impl<T: Copy> Timers<T> {
    /// No timers.
    pub fn new() -> Timers<T> {
        Timers {
            timers: BTreeMap::new(),
            cancelled: HashSet::new(),
            next_id: 0,
            seq: 0,
        }
    }

    fn insert(&mut self, when: u64, timer: Timer<T>) {
        self.seq += 1;
        self.timers.insert((when, self.seq), timer);
    }

    fn find(&self, id: i32) -> Option<(u64, u64)> {
        self.timers
            .iter()
            .find(|(_, t)| t.id == id)
            .map(|(&k, _)| k)
    }

    /// Adds a timer firing every `interval` ms; returns its id (from 1 up).
    pub fn add(&mut self, interval: u64, payload: T, now: u64) -> i32 {
        self.next_id = self.next_id.wrapping_add(1);
        let timer = Timer {
            id: self.next_id,
            interval,
            payload,
        };
        self.insert(now.saturating_add(interval), timer);
        timer.id
    }

    /// Cancels a timer; an unknown or already cancelled id is `Invalid`.
    pub fn cancel(&mut self, id: i32) -> Result<()> {
        if self.find(id).is_none() || !self.cancelled.insert(id) {
            return Err(Error::Invalid);
        }
        Ok(())
    }

    /// Changes a timer's interval and restarts it from `now`.
    pub fn set_interval(&mut self, id: i32, interval: u64, now: u64) -> Result<()> {
        let key = self.find(id).ok_or(Error::Invalid)?;
        let mut timer = self.timers.remove(&key).expect("found above");
        timer.interval = interval;
        self.insert(now.saturating_add(interval), timer);
        Ok(())
    }

    /// Restarts a timer from `now`.
    pub fn reset(&mut self, id: i32, now: u64) -> Result<()> {
        let key = self.find(id).ok_or(Error::Invalid)?;
        let timer = self.timers.remove(&key).expect("found above");
        self.insert(now.saturating_add(timer.interval), timer);
        Ok(())
    }

    /// Milliseconds until the next live timer fires (0 if overdue), or -1
    /// when there is none. Drops cancelled timers found on the way.
    pub fn timeout(&mut self, now: u64) -> i64 {
        while let Some(entry) = self.timers.first_entry() {
            let id = entry.get().id;
            if self.cancelled.remove(&id) {
                entry.remove();
                continue;
            }
            return entry.key().0.saturating_sub(now).min(i64::MAX as u64) as i64;
        }
        -1
    }

    /// Takes the timers due at `now`, reschedules each one interval later, and
    /// returns them in expiry order for the caller to run.
    ///
    /// Running is left to the caller so that a handler may use this structure
    /// again (cancel, add, reset); before running each one the caller asks
    /// [`Timers::is_cancelled`], since an earlier handler may have cancelled it.
    pub fn take_due(&mut self, now: u64) -> Vec<(i32, T)> {
        // Split off everything due first, then reschedule: a zero interval
        // re-arms at `now` and must wait for the next call (libzmq would spin
        // on it forever).
        let later = self.timers.split_off(&(now.saturating_add(1), 0));
        let due = std::mem::replace(&mut self.timers, later);
        let mut out = Vec::with_capacity(due.len());
        for timer in due.into_values() {
            if self.cancelled.remove(&timer.id) {
                continue;
            }
            out.push((timer.id, timer.payload));
            self.insert(now.saturating_add(timer.interval), timer);
        }
        out
    }

    /// Whether a timer has been cancelled and not yet dropped.
    pub fn is_cancelled(&self, id: i32) -> bool {
        self.cancelled.contains(&id)
    }
}

impl<T: Copy> Default for Timers<T> {
    fn default() -> Self {
        Timers::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_in_order_and_reschedules() {
        let mut t = Timers::new();
        let a = t.add(10, 'a', 0);
        let b = t.add(5, 'b', 0);
        assert_eq!((a, b), (1, 2));
        assert_eq!(t.timeout(0), 5);
        assert!(t.take_due(4).is_empty());
        assert_eq!(t.take_due(5), vec![(2, 'b')]);
        assert_eq!(t.timeout(5), 5);
        assert_eq!(t.take_due(10), vec![(1, 'a'), (2, 'b')]);
        assert_eq!(t.timeout(10), 5);
    }

    #[test]
    fn cancel_and_unknown_ids() {
        let mut t = Timers::new();
        let a = t.add(10, (), 0);
        assert_eq!(t.cancel(99), Err(Error::Invalid));
        t.cancel(a).unwrap();
        assert_eq!(t.cancel(a), Err(Error::Invalid));
        assert!(t.take_due(100).is_empty());
        assert_eq!(t.timeout(100), -1);
        assert_eq!(t.cancel(a), Err(Error::Invalid));
    }

    #[test]
    fn reset_and_set_interval() {
        let mut t = Timers::new();
        let a = t.add(10, (), 0);
        t.reset(a, 8).unwrap();
        assert_eq!(t.timeout(8), 10);
        t.set_interval(a, 3, 9).unwrap();
        assert_eq!(t.timeout(9), 3);
        assert_eq!(t.reset(7, 0), Err(Error::Invalid));
        assert_eq!(t.set_interval(7, 1, 0), Err(Error::Invalid));
    }

    #[test]
    fn zero_interval_fires_once_per_call() {
        let mut t = Timers::new();
        t.add(0, (), 0);
        assert_eq!(t.take_due(0).len(), 1);
        assert_eq!(t.take_due(0).len(), 1);
        assert_eq!(t.timeout(0), 0);
    }

    #[test]
    fn overdue_timeout_is_zero() {
        let mut t = Timers::new();
        t.add(1, (), 0);
        assert_eq!(t.timeout(50), 0);
    }
}
