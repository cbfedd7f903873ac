//! Threads and signalling: eventfd signalers, mailboxes, I/O threads.

pub mod mailbox;
pub mod signaler;
pub mod spin;
pub(crate) mod thread;
