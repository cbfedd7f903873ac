//! Subscription tries: prefix matching that stays fast with many topics.
//!
//! libzmq: src/trie.cpp (SUB/XSUB: counted prefixes) and src/mtrie.cpp
//! (PUB/XPUB: the pipes subscribed to each prefix). A message matches a
//! subscription when the subscription is a prefix of its first frame, so
//! matching walks the message's bytes down the trie once, whatever the
//! number of subscriptions: O(length of the longest matching prefix).
//!
//! Children are kept in a vector sorted by byte (binary search): compact
//! for the sparse fan-out of real topic sets, and nodes whose last
//! subscription goes are pruned so memory follows the live topics.

/// A node's children, sorted by their byte.
#[derive(Debug, Default)]
struct Children<N>(Vec<(u8, N)>);

impl<N: Default> Children<N> {
    fn get(&self, byte: u8) -> Option<&N> {
        self.0
            .binary_search_by_key(&byte, |(b, _)| *b)
            .ok()
            .map(|i| &self.0[i].1)
    }

    fn get_mut(&mut self, byte: u8) -> Option<&mut N> {
        match self.0.binary_search_by_key(&byte, |(b, _)| *b) {
            Ok(i) => Some(&mut self.0[i].1),
            Err(_) => None,
        }
    }

    fn get_or_insert(&mut self, byte: u8) -> &mut N {
        let i = match self.0.binary_search_by_key(&byte, |(b, _)| *b) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (byte, N::default()));
                i
            }
        };
        &mut self.0[i].1
    }

    fn remove(&mut self, byte: u8) {
        if let Ok(i) = self.0.binary_search_by_key(&byte, |(b, _)| *b) {
            self.0.remove(i);
        }
    }
}

// ---- counted prefixes (SUB, XSUB) ------------------------------------------

#[derive(Debug, Default)]
struct Node {
    /// How many times this exact prefix is subscribed.
    count: u32,
    children: Children<Node>,
}

impl Node {
    fn is_empty(&self) -> bool {
        self.count == 0 && self.children.0.is_empty()
    }
}

/// Reference-counted prefix subscriptions.
#[derive(Debug, Default)]
pub struct Trie {
    root: Node,
}

impl Trie {
    /// Adds one reference to `prefix`; true if the prefix is new.
    pub fn add(&mut self, prefix: &[u8]) -> bool {
        let mut node = &mut self.root;
        for &b in prefix {
            node = node.children.get_or_insert(b);
        }
        node.count += 1;
        node.count == 1
    }

    /// Drops one reference to `prefix`; true if that was the last one (the
    /// prefix is gone), false if it remains or was never there.
    pub fn remove(&mut self, prefix: &[u8]) -> bool {
        fn go(node: &mut Node, rest: &[u8]) -> bool {
            let Some((&b, tail)) = rest.split_first() else {
                if node.count == 0 {
                    return false;
                }
                node.count -= 1;
                return node.count == 0;
            };
            let Some(child) = node.children.get_mut(b) else {
                return false;
            };
            let gone = go(child, tail);
            if child.is_empty() {
                node.children.remove(b);
            }
            gone
        }
        go(&mut self.root, prefix)
    }

    /// Whether some subscribed prefix starts `data`.
    pub fn matches(&self, data: &[u8]) -> bool {
        let mut node = &self.root;
        for &b in data {
            if node.count > 0 {
                return true;
            }
            match node.children.get(b) {
                Some(child) => node = child,
                None => return false,
            }
        }
        node.count > 0
    }

    /// Calls `f` once per subscribed prefix.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        fn go(node: &Node, prefix: &mut Vec<u8>, f: &mut dyn FnMut(&[u8])) {
            if node.count > 0 {
                f(prefix);
            }
            for (b, child) in &node.children.0 {
                prefix.push(*b);
                go(child, prefix, f);
                prefix.pop();
            }
        }
        go(&self.root, &mut Vec::new(), &mut f);
    }
}

// ---- prefixes per pipe (PUB, XPUB) ------------------------------------------

#[derive(Debug, Default)]
struct MNode {
    /// The pipes subscribed to this exact prefix, sorted.
    pipes: Vec<usize>,
    children: Children<MNode>,
}

impl MNode {
    fn is_empty(&self) -> bool {
        self.pipes.is_empty() && self.children.0.is_empty()
    }
}

/// What removing one pipe's subscription found (libzmq: `mtrie_t::rm_result`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removed {
    /// The pipe was not subscribed to the prefix.
    NotFound,
    /// The pipe was the prefix's last subscriber.
    LastValue,
    /// Other pipes remain subscribed.
    ValuesRemain,
}

/// The set of pipes subscribed to each prefix.
#[derive(Debug, Default)]
pub struct MTrie {
    root: MNode,
}

impl MTrie {
    /// Subscribes `pipe` to `prefix`; true if it is the prefix's first
    /// subscriber.
    pub fn add(&mut self, prefix: &[u8], pipe: usize) -> bool {
        let mut node = &mut self.root;
        for &b in prefix {
            node = node.children.get_or_insert(b);
        }
        let first = node.pipes.is_empty();
        if let Err(i) = node.pipes.binary_search(&pipe) {
            node.pipes.insert(i, pipe);
        }
        first
    }

    /// Unsubscribes `pipe` from `prefix`.
    pub fn remove(&mut self, prefix: &[u8], pipe: usize) -> Removed {
        fn go(node: &mut MNode, rest: &[u8], pipe: usize) -> Removed {
            let Some((&b, tail)) = rest.split_first() else {
                let Ok(i) = node.pipes.binary_search(&pipe) else {
                    return Removed::NotFound;
                };
                node.pipes.remove(i);
                return if node.pipes.is_empty() {
                    Removed::LastValue
                } else {
                    Removed::ValuesRemain
                };
            };
            let Some(child) = node.children.get_mut(b) else {
                return Removed::NotFound;
            };
            let result = go(child, tail, pipe);
            if child.is_empty() {
                node.children.remove(b);
            }
            result
        }
        go(&mut self.root, prefix, pipe)
    }

    /// Removes `pipe` everywhere. `f` is called for each prefix it was
    /// subscribed to: only where it was the last subscriber if
    /// `only_last`, else for all of them.
    pub fn remove_pipe(&mut self, pipe: usize, only_last: bool, mut f: impl FnMut(&[u8])) {
        fn go(
            node: &mut MNode,
            prefix: &mut Vec<u8>,
            pipe: usize,
            only_last: bool,
            f: &mut dyn FnMut(&[u8]),
        ) {
            if let Ok(i) = node.pipes.binary_search(&pipe) {
                node.pipes.remove(i);
                if !only_last || node.pipes.is_empty() {
                    f(prefix);
                }
            }
            let mut i = 0;
            while i < node.children.0.len() {
                let (b, child) = &mut node.children.0[i];
                prefix.push(*b);
                go(child, prefix, pipe, only_last, f);
                prefix.pop();
                if child.is_empty() {
                    node.children.0.remove(i);
                } else {
                    i += 1;
                }
            }
        }
        go(&mut self.root, &mut Vec::new(), pipe, only_last, &mut f);
    }

    /// Calls `f` for every pipe subscribed to a prefix of `data` (a pipe
    /// with several matching prefixes is reported once per prefix).
    pub fn for_each_match(&self, data: &[u8], mut f: impl FnMut(usize)) {
        let mut node = &self.root;
        let mut rest = data;
        loop {
            for &p in &node.pipes {
                f(p);
            }
            let Some((&b, tail)) = rest.split_first() else {
                return;
            };
            match node.children.get(b) {
                Some(child) => node = child,
                None => return,
            }
            rest = tail;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_prefixes() {
        let mut t = Trie::default();
        assert!(!t.matches(b"abc"));
        assert!(t.add(b"ab"));
        assert!(!t.add(b"ab"));
        assert!(t.matches(b"abc") && t.matches(b"ab") && !t.matches(b"a"));
        assert!(!t.remove(b"ab"));
        assert!(t.matches(b"abc"));
        assert!(t.remove(b"ab"));
        assert!(!t.matches(b"abc"));
        assert!(!t.remove(b"ab"));
        assert!(t.root.is_empty(), "pruned");
        t.add(b"");
        assert!(t.matches(b"") && t.matches(b"x"));
    }

    #[test]
    fn for_each_lists_topics_once() {
        let mut t = Trie::default();
        for topic in [&b"b"[..], b"a", b"ab", b"a", b""] {
            t.add(topic);
        }
        let mut seen = Vec::new();
        t.for_each(|p| seen.push(p.to_vec()));
        assert_eq!(
            seen,
            vec![b"".to_vec(), b"a".to_vec(), b"ab".to_vec(), b"b".to_vec()]
        );
    }

    #[test]
    fn pipes_per_prefix() {
        let mut m = MTrie::default();
        assert!(m.add(b"a", 1));
        assert!(!m.add(b"a", 2));
        assert!(!m.add(b"a", 2));
        assert!(m.add(b"ab", 3));
        let mut hits = Vec::new();
        m.for_each_match(b"abc", |p| hits.push(p));
        assert_eq!(hits, vec![1, 2, 3]);
        assert_eq!(m.remove(b"a", 9), Removed::NotFound);
        assert_eq!(m.remove(b"a", 1), Removed::ValuesRemain);
        assert_eq!(m.remove(b"a", 2), Removed::LastValue);
        let mut gone = Vec::new();
        m.add(b"x", 3);
        m.add(b"x", 4);
        m.remove_pipe(3, true, |p| gone.push(p.to_vec()));
        assert_eq!(gone, vec![b"ab".to_vec()]);
        m.remove_pipe(4, false, |p| gone.push(p.to_vec()));
        assert_eq!(gone, vec![b"ab".to_vec(), b"x".to_vec()]);
        assert!(m.root.is_empty(), "pruned");
    }
}
