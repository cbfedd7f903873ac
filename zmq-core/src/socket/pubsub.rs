//! Publish-subscribe (RFC 29): PUB and XPUB, SUB and XSUB.
//!
//! libzmq: src/xpub.cpp, pub.cpp, xsub.cpp, sub.cpp. PUB is XPUB that hands
//! no subscriptions to the application; SUB is XSUB driven by
//! `ZMQ_SUBSCRIBE`/`ZMQ_UNSUBSCRIBE`. Subscriptions travel upstream as
//! messages whose first byte is 1 (subscribe) or 0 (cancel) followed by the
//! topic; the engine sends the ones we make as ZMTP 3.1 SUBSCRIBE/CANCEL
//! commands to peers that speak 3.1.

use std::collections::VecDeque;

use crate::error::{Error, Result};
use crate::msg::{flags, Msg};
use crate::options::{Options, SockOpt};
use crate::socket::patterns::bool_opt;
use crate::socket::strategy::{Dist, Fq};
use crate::socket::trie::{MTrie, Removed, Trie};
use crate::socket::{Pattern, Pipes};

/// A subscription message's verdict and topic: `Some((true, topic))` for
/// `\x01topic`, `Some((false, topic))` for `\x00topic`.
fn parse_subscription(msg: &Msg) -> Option<(bool, &[u8])> {
    match msg.data().split_first() {
        Some((1, topic)) => Some((true, topic)),
        Some((0, topic)) => Some((false, topic)),
        _ => None,
    }
}

/// A subscription as the application reads it from an XPUB: a plain
/// message, never sent on as a command.
fn notification(subscribe: bool, topic: &[u8]) -> Msg {
    let mut msg = Msg::subscription(subscribe, topic);
    msg.reset_flags(flags::SUBSCRIPTION);
    msg
}

// ---- PUB / XPUB -------------------------------------------------------------

/// PUB and XPUB: each message goes to the subscribers whose subscriptions
/// prefix it; a subscriber without room loses it (unless `ZMQ_XPUB_NODROP`).
pub(crate) struct XPub {
    /// PUB: subscriptions are applied but never handed to the application.
    is_pub: bool,
    dist: Dist,
    subscriptions: MTrie,
    /// `ZMQ_XPUB_MANUAL`: what each pipe asked for, to cancel on its end.
    manual_subscriptions: MTrie,
    verbose_subs: bool,
    verbose_unsubs: bool,
    lossy: bool,
    manual: bool,
    send_last_pipe: bool,
    only_first_subscribe: bool,
    invert: bool,
    welcome: Option<Vec<u8>>,
    more_send: bool,
    more_recv: bool,
    process_subscribe: bool,
    /// Subscriptions (and upstream messages) for the application.
    pending: VecDeque<Msg>,
    /// Manual mode: the pipe each pending subscription came from.
    pending_pipes: VecDeque<Option<usize>>,
    /// Manual mode: the pipe of the subscription read last.
    last_pipe: Option<usize>,
    matched: Vec<usize>,
}

impl XPub {
    pub(crate) fn new(is_pub: bool, options: &Options) -> XPub {
        XPub {
            is_pub,
            dist: Dist::default(),
            subscriptions: MTrie::default(),
            manual_subscriptions: MTrie::default(),
            verbose_subs: false,
            verbose_unsubs: false,
            lossy: true,
            manual: false,
            send_last_pipe: false,
            only_first_subscribe: false,
            invert: options.invert_matching,
            welcome: None,
            more_send: false,
            more_recv: false,
            process_subscribe: false,
            pending: VecDeque::new(),
            pending_pipes: VecDeque::new(),
            last_pipe: None,
            matched: Vec::new(),
        }
    }

    fn queue_notification(&mut self, subscribe: bool, topic: &[u8], from: &Msg) {
        let mut note = notification(subscribe, topic);
        if let Some(md) = from.metadata() {
            note.set_metadata(md.clone());
        }
        self.pending.push_back(note);
    }

    /// Takes in what a subscriber sent: subscriptions, cancels and (from an
    /// XSUB) upstream messages.
    fn read_subscriptions(&mut self, pipes: &mut Pipes, key: usize) {
        while let Some(msg) = pipes[key].read() {
            let first_part = !self.more_recv;
            self.more_recv = msg.more();
            let sub = if first_part || self.process_subscribe {
                parse_subscription(&msg)
            } else {
                None
            };
            if first_part {
                self.process_subscribe = !self.only_first_subscribe || sub.is_some();
            }
            let Some((subscribe, topic)) = sub else {
                if !self.is_pub {
                    // A message from an XSUB for the application.
                    let mut msg = msg;
                    msg.reset_flags(flags::COMMAND | flags::SUBSCRIPTION);
                    self.pending.push_back(msg);
                }
                continue;
            };
            let mut notify = false;
            if self.manual {
                if subscribe {
                    self.manual_subscriptions.add(topic, key);
                } else {
                    self.manual_subscriptions.remove(topic, key);
                }
                self.pending_pipes.push_back(Some(key));
            } else if subscribe {
                notify = self.subscriptions.add(topic, key) || self.verbose_subs;
            } else {
                let removed = self.subscriptions.remove(topic, key);
                notify = removed != Removed::ValuesRemain || self.verbose_unsubs;
            }
            if !self.is_pub && (self.manual || notify) {
                self.queue_notification(subscribe, topic, &msg);
            }
        }
    }

    /// Queues the cancel the application sees when a subscriber goes.
    fn queue_unsubscription(&mut self, topic: &[u8]) {
        if self.is_pub {
            return;
        }
        self.pending.push_back(notification(false, topic));
        if self.manual {
            self.last_pipe = None;
            self.pending_pipes.push_back(None);
        }
    }
}

impl Pattern for XPub {
    fn attach(&mut self, pipes: &mut Pipes, key: usize, _: &Options) -> bool {
        self.dist.attach(key);
        if let Some(welcome) = &self.welcome {
            if let Ok(msg) = Msg::from_slice(welcome) {
                if pipes[key].write(msg).is_ok() {
                    pipes[key].flush();
                }
            }
        }
        self.read_subscriptions(pipes, key);
        true
    }

    fn pipe_terminated(&mut self, _: &mut Pipes, key: usize) {
        let mut gone = Vec::new();
        if self.manual {
            self.manual_subscriptions
                .remove_pipe(key, false, |topic| gone.push(topic.to_vec()));
            self.subscriptions.remove_pipe(key, false, |_| {});
        } else {
            let only_last = !self.verbose_unsubs;
            self.subscriptions
                .remove_pipe(key, only_last, |topic| gone.push(topic.to_vec()));
        }
        for topic in gone {
            self.queue_unsubscription(&topic);
        }
        self.dist.terminated(key);
        // Slab keys are reused: forget the pipe wherever it is remembered.
        for p in self.pending_pipes.iter_mut() {
            if *p == Some(key) {
                *p = None;
            }
        }
        if self.last_pipe == Some(key) {
            self.last_pipe = None;
        }
    }

    fn read_activated(&mut self, pipes: &mut Pipes, key: usize) {
        self.read_subscriptions(pipes, key);
    }

    fn write_activated(&mut self, _: &mut Pipes, _: usize) {}

    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        let more = msg.more();
        if !self.more_send {
            self.matched.clear();
            let matched = &mut self.matched;
            let only = if self.manual && self.send_last_pipe {
                self.last_pipe.take()
            } else {
                None
            };
            match only {
                Some(last) => self.subscriptions.for_each_match(msg.data(), |p| {
                    if p == last {
                        matched.push(p)
                    }
                }),
                None => self
                    .subscriptions
                    .for_each_match(msg.data(), |p| matched.push(p)),
            }
            if self.invert {
                matched.sort_unstable();
                let chosen = std::mem::take(matched);
                matched.extend(
                    self.dist
                        .pipes()
                        .iter()
                        .filter(|k| chosen.binary_search(k).is_err()),
                );
            }
            if !self.lossy && !self.matched.iter().all(|&k| pipes[k].check_write()) {
                return Err(Error::Again);
            }
        }
        let matched = &self.matched;
        self.dist
            .send(pipes, msg, |_, out| out.extend_from_slice(matched));
        self.more_send = more;
        Ok(())
    }

    fn recv(&mut self, _: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if self.is_pub {
            return Err(Error::NotSupported);
        }
        let next = self.pending.pop_front().ok_or(Error::Again)?;
        if self.manual {
            if let Some(pipe) = self.pending_pipes.pop_front() {
                self.last_pipe = pipe.filter(|&p| self.dist.has_pipe(p));
            }
        }
        *msg = next;
        Ok(())
    }

    fn has_in(&mut self, _: &mut Pipes) -> bool {
        !self.is_pub && !self.pending.is_empty()
    }

    fn has_out(&mut self, _: &mut Pipes) -> bool {
        true
    }

    fn setsockopt(
        &mut self,
        _pipes: &mut Pipes,
        option: SockOpt,
        value: &[u8],
    ) -> Option<Result<()>> {
        // PUB takes the XPUB options too (libzmq: the same `xsetsockopt`).
        Some(match option {
            SockOpt::XpubVerbose => bool_opt(value).map(|v| {
                self.verbose_subs = v;
                self.verbose_unsubs = false;
            }),
            SockOpt::XpubVerboser => bool_opt(value).map(|v| {
                self.verbose_subs = v;
                self.verbose_unsubs = v;
            }),
            SockOpt::XpubManualLastValue => bool_opt(value).map(|v| {
                self.manual = v;
                self.send_last_pipe = v;
            }),
            SockOpt::XpubNodrop => bool_opt(value).map(|v| self.lossy = !v),
            SockOpt::XpubManual => bool_opt(value).map(|v| self.manual = v),
            SockOpt::OnlyFirstSubscribe => bool_opt(value).map(|v| self.only_first_subscribe = v),
            SockOpt::Subscribe if self.manual => {
                if let Some(last) = self.last_pipe {
                    self.subscriptions.add(value, last);
                }
                Ok(())
            }
            SockOpt::Unsubscribe if self.manual => {
                if let Some(last) = self.last_pipe {
                    self.subscriptions.remove(value, last);
                }
                Ok(())
            }
            SockOpt::XpubWelcomeMsg => {
                self.welcome = (!value.is_empty()).then(|| value.to_vec());
                Ok(())
            }
            _ => return None,
        })
    }

    fn options_changed(&mut self, options: &Options) {
        self.invert = options.invert_matching;
    }
}

// ---- SUB / XSUB -------------------------------------------------------------

/// SUB and XSUB: receive the messages matching the subscriptions, which are
/// sent to every publisher, including ones that connect or reconnect later.
pub(crate) struct XSub {
    /// SUB: subscriptions come from `ZMQ_SUBSCRIBE`; sending is refused.
    is_sub: bool,
    fq: Fq,
    dist: Dist,
    subscriptions: Trie,
    invert: bool,
    only_first_subscribe: bool,
    /// A matching message's first frame, read ahead by `has_in`.
    prefetched: Option<Msg>,
    more_recv: bool,
    more_send: bool,
    process_subscribe: bool,
}

impl XSub {
    pub(crate) fn new(is_sub: bool, options: &Options) -> XSub {
        XSub {
            is_sub,
            fq: Fq::default(),
            dist: Dist::default(),
            subscriptions: Trie::default(),
            invert: options.invert_matching,
            only_first_subscribe: false,
            prefetched: None,
            more_recv: false,
            more_send: false,
            process_subscribe: false,
        }
    }

    /// Whether the application gets the message: SUB filters, XSUB passes
    /// everything (libzmq's `options.filter`).
    fn matches(&self, msg: &Msg) -> bool {
        !self.is_sub || self.subscriptions.matches(msg.data()) != self.invert
    }

    /// Reads the next frame of a matching message, skipping others.
    fn next_matching(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if let Some(first) = self.prefetched.take() {
            *msg = first;
            self.more_recv = msg.more();
            return Ok(());
        }
        loop {
            self.fq.recv(pipes, msg)?;
            if self.more_recv || self.matches(msg) {
                self.more_recv = msg.more();
                return Ok(());
            }
            while msg.more() {
                self.fq.recv(pipes, msg)?;
            }
        }
    }

    /// Sends one frame upstream: subscriptions update the trie on the way
    /// (libzmq's `xsub_t::xsend`).
    fn send_upstream(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        let first_part = !self.more_send;
        self.more_send = msg.more();
        if first_part {
            self.process_subscribe = !self.only_first_subscribe;
        } else if !self.process_subscribe {
            self.dist.send_to_all(pipes, msg);
            return Ok(());
        }
        let forward = match parse_subscription(msg) {
            Some((true, topic)) => {
                // Every subscribe goes on: XPUB_VERBOSE upstream counts them.
                self.subscriptions.add(topic);
                self.process_subscribe = true;
                true
            }
            Some((false, topic)) => {
                self.process_subscribe = true;
                self.subscriptions.remove(topic)
            }
            None => true,
        };
        if forward {
            self.dist.send_to_all(pipes, msg);
        } else {
            *msg = Msg::new();
        }
        Ok(())
    }

    /// Sends every subscription to one publisher (a new or reconnected one).
    fn send_subscriptions(&self, pipes: &mut Pipes, key: usize) {
        self.subscriptions.for_each(|topic| {
            let _ = pipes[key].write(Msg::subscription(true, topic));
        });
        pipes[key].flush();
    }
}

impl Pattern for XSub {
    fn attach(&mut self, pipes: &mut Pipes, key: usize, _: &Options) -> bool {
        self.fq.attach(key);
        self.dist.attach(key);
        self.send_subscriptions(pipes, key);
        true
    }
    fn pipe_terminated(&mut self, _: &mut Pipes, key: usize) {
        self.fq.terminated(key);
        self.dist.terminated(key);
    }
    fn read_activated(&mut self, _: &mut Pipes, key: usize) {
        self.fq.activated(key);
    }
    fn write_activated(&mut self, _: &mut Pipes, _: usize) {}
    fn hiccuped(&mut self, pipes: &mut Pipes, key: usize) {
        self.send_subscriptions(pipes, key);
    }
    fn send(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        if self.is_sub {
            return Err(Error::NotSupported);
        }
        self.send_upstream(pipes, msg)
    }
    fn recv(&mut self, pipes: &mut Pipes, msg: &mut Msg) -> Result<()> {
        self.next_matching(pipes, msg)
    }
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if self.more_recv || self.prefetched.is_some() {
            return true;
        }
        let mut msg = Msg::new();
        if self.next_matching(pipes, &mut msg).is_err() {
            return false;
        }
        // Keep the frame as the start of the next message.
        self.more_recv = false;
        self.prefetched = Some(msg);
        true
    }
    fn has_out(&mut self, _: &mut Pipes) -> bool {
        !self.is_sub
    }
    fn setsockopt(
        &mut self,
        pipes: &mut Pipes,
        option: SockOpt,
        value: &[u8],
    ) -> Option<Result<()>> {
        match option {
            SockOpt::Subscribe | SockOpt::Unsubscribe if self.is_sub => {
                let mut msg = Msg::subscription(option == SockOpt::Subscribe, value);
                Some(self.send_upstream(pipes, &mut msg))
            }
            SockOpt::OnlyFirstSubscribe if !self.is_sub => {
                Some(bool_opt(value).map(|v| self.only_first_subscribe = v))
            }
            _ => None,
        }
    }

    fn options_changed(&mut self, options: &Options) {
        self.invert = options.invert_matching;
    }
}
