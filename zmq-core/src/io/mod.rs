//! Threads and signalling: eventfd signalers, mailboxes, I/O threads.

pub(crate) mod direct;
pub mod mailbox;
pub mod signaler;
pub mod spin;
pub(crate) mod thread;
