//! The event queue: a total order `(ts, class, seq)` so ties resolve the same way every run.

use lockstep_core::{EventClass, UnixNanos};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// The ordering key of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventKey {
    /// When it happens.
    pub ts: UnixNanos,
    /// Class: Data < VenueReport < Timer < Signal at equal `ts`.
    pub class: EventClass,
    /// Insertion sequence: earlier first at equal `(ts, class)`.
    pub seq: u64,
}

struct Entry<T> {
    key: EventKey,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// A min-queue of events ordered by [`EventKey`]; `seq` is assigned on push.
pub struct EventQueue<T> {
    heap: BinaryHeap<Reverse<Entry<T>>>,
    next_seq: u64,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<T> EventQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an event; returns its key.
    pub fn push(&mut self, ts: UnixNanos, class: EventClass, item: T) -> EventKey {
        let key = EventKey {
            ts,
            class,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        self.heap.push(Reverse(Entry { key, item }));
        key
    }

    /// The key of the next event.
    pub fn peek_key(&self) -> Option<EventKey> {
        self.heap.peek().map(|r| r.0.key)
    }

    /// Removes and returns the next event.
    pub fn pop(&mut self) -> Option<(EventKey, T)> {
        self.heap.pop().map(|r| (r.0.key, r.0.item))
    }

    /// Number of queued events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_ts_class_seq_order() {
        let mut q = EventQueue::new();
        q.push(UnixNanos(5), EventClass::Signal, "s5");
        q.push(UnixNanos(5), EventClass::Timer, "t5a");
        q.push(UnixNanos(5), EventClass::Data, "d5");
        q.push(UnixNanos(1), EventClass::Signal, "s1");
        q.push(UnixNanos(5), EventClass::Timer, "t5b");
        q.push(UnixNanos(5), EventClass::VenueReport, "v5");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, v)| v)).collect();
        assert_eq!(order, ["s1", "d5", "v5", "t5a", "t5b", "s5"]);
    }
}
