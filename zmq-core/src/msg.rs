//! Messages: the unit every pipe, socket and engine moves.
//!
//! A [`Msg`] is exactly 64 bytes so that it can live inside the caller-owned
//! `zmq_msg_t` of the C API. Its layout is `#[repr(C)]` and starts with a
//! [`Kind`] byte, so the C boundary can reject a buffer that was never
//! initialised (or was closed) before it interprets the rest. It holds no
//! pointer to itself, so it may be moved with `memcpy`, as C callers do.
//!
//! Bodies come in three shapes, as in libzmq (`src/msg.hpp`):
//! - *inline* (libzmq's VSM): up to [`INLINE_CAPACITY`] bytes inside the 64;
//! - *shared* (LMSG/ZCLMSG): a reference-counted [`Content`] allocation, either
//!   our own buffer or a caller's buffer released by its free function; a
//!   message may reference a sub-range of a content (the decoder slices one
//!   read buffer into many messages without copying);
//! - *constant* (CMSG): caller memory that is never freed (`zmq_send_const`,
//!   `zmq_msg_init_data` without a free function).

use std::alloc::{self, Layout};
use std::ffi::{c_void, CStr, CString};
use std::mem::{self, ManuallyDrop};
use std::ptr::{self, NonNull};
use std::slice;
use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

/// Bytes a message body can hold inline, without an allocation: libzmq's
/// `max_vsm_size` on 64-bit targets. It is observable (a copy of a longer body
/// shares it and reports `ZMQ_SHARED`), so it is libzmq's value, not ours.
pub const INLINE_CAPACITY: usize = 33;

/// The inline area, a little larger than [`INLINE_CAPACITY`] to fill the 64.
pub(crate) const INLINE_AREA: usize = 40;

/// The longest group name (`ZMQ_GROUP_MAX_LENGTH`).
pub const GROUP_MAX_LENGTH: usize = 255;

/// A caller's function that releases a zero-copy buffer (`zmq_free_fn`).
pub type FreeFn = unsafe extern "C" fn(data: *mut c_void, hint: *mut c_void);

/// What a message is; the first byte of its representation.
///
/// The values are libzmq's (`type_min` 101 .. `type_max` 107) so that 0 (a
/// zeroed or closed `zmq_msg_t`) is never valid.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Body held inline.
    Inline = 101,
    /// Body in a reference-counted [`Content`].
    Shared = 102,
    /// End-of-pipe marker used by the pipe termination handshake.
    Delimiter = 103,
    /// Body in caller memory that is never freed.
    Constant = 104,
    /// RADIO/DISH join command.
    Join = 106,
    /// RADIO/DISH leave command.
    Leave = 107,
}

impl Kind {
    /// The kind stored in `byte`, if it is a valid one.
    pub fn from_byte(byte: u8) -> Option<Kind> {
        Some(match byte {
            101 => Kind::Inline,
            102 => Kind::Shared,
            103 => Kind::Delimiter,
            104 => Kind::Constant,
            106 => Kind::Join,
            107 => Kind::Leave,
            _ => return None,
        })
    }
}

/// Message flags (libzmq's `msg_t::flags`).
pub mod flags {
    /// More frames of this message follow.
    pub const MORE: u8 = 1;
    /// A ZMTP command frame rather than a data frame.
    pub const COMMAND: u8 = 2;
    /// An RFC 29 subscription or cancel made by SUB/XSUB (`\x01topic` or
    /// `\x00topic`): the engine sends it to ZMTP 3.1 peers as a SUBSCRIBE
    /// or CANCEL command (libzmq's `msg_t::subscribe`/`cancel`).
    pub const SUBSCRIPTION: u8 = 4;
    /// Set by the socket on a message's last frame: the pipe may write the
    /// message past its queue (see `pipe::DirectOut`). Never left on a
    /// frame once written.
    pub const DIRECT: u8 = 8;
    /// The frame carries the peer's credential (User-Id).
    pub const CREDENTIAL: u8 = 32;
    /// The frame is a routing id prepended by a ROUTER-like socket.
    pub const ROUTING_ID: u8 = 64;
    /// The body has been copied at least once (`ZMQ_SHARED`).
    pub const SHARED: u8 = 128;
}

/// Connection properties attached to received messages (`zmq_msg_gets`).
///
/// Shared by every message from one connection; immutable once built.
#[derive(Debug, Default)]
pub struct Metadata {
    props: Vec<(String, CString)>,
}

impl Metadata {
    /// Empty metadata.
    pub fn new() -> Metadata {
        Metadata::default()
    }

    /// Adds (or replaces) a property. Values with an interior NUL are cut there,
    /// as a C string would be.
    pub fn insert(&mut self, name: &str, value: &[u8]) {
        let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
        let value = CString::new(&value[..end]).expect("NUL removed above");
        match self.props.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.props.push((name.to_owned(), value)),
        }
    }

    /// The value of a property, looked up by exact name.
    pub fn get(&self, name: &str) -> Option<&CStr> {
        self.props
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_c_str())
    }

    /// Number of properties.
    pub fn len(&self) -> usize {
        self.props.len()
    }

    /// Whether there are no properties.
    pub fn is_empty(&self) -> bool {
        self.props.is_empty()
    }
}

/// How a [`Content`]'s bytes are released when its last reference goes.
enum Release {
    /// The bytes follow the header in the same allocation of this layout.
    Inline(Layout),
    /// As `Inline`, in a block of this pool class (crate::pool).
    Pooled(usize),
    /// The caller's buffer, released by the caller's function.
    Caller { free: FreeFn, hint: *mut c_void },
    /// Bytes owned by a `Vec` (whose parts are kept to rebuild it).
    Vec { capacity: usize },
}

/// A reference-counted body (libzmq's `content_t`).
///
/// The count starts at 1; [`Msg::share`] adds one per copy and the message that
/// drops the count to zero releases the bytes.
pub struct Content {
    refcnt: AtomicUsize,
    data: *mut u8,
    size: usize,
    release: Release,
}

impl Content {
    /// Allocates a content with `size` bytes after the header: zeroed, or
    /// (`zeroed` false) left as the allocator gives them, for a caller that
    /// fills them itself.
    fn alloc(size: usize, zeroed: bool) -> Result<NonNull<Content>> {
        let header = Layout::new::<Content>();
        let body = Layout::array::<u8>(size).map_err(|_| Error::NoMemory)?;
        let (layout, offset) = header.extend(body).map_err(|_| Error::NoMemory)?;
        // Small contents come from the recycling pool (see crate::pool).
        let class = crate::pool::class_for(layout.size(), layout.align());
        let raw = match class {
            Some(class) => {
                let raw = crate::pool::alloc(class).ok_or(Error::NoMemory)?.as_ptr();
                if zeroed {
                    // SAFETY: the block holds `offset + size` bytes.
                    unsafe { ptr::write_bytes(raw.add(offset), 0, size) };
                }
                raw
            }
            // SAFETY: the layout is non-zero-sized (it holds the header).
            None => unsafe {
                if zeroed {
                    alloc::alloc_zeroed(layout)
                } else {
                    alloc::alloc(layout)
                }
            },
        };
        let content = NonNull::new(raw as *mut Content).ok_or(Error::NoMemory)?;
        // SAFETY: `raw` is a fresh allocation of `layout`, aligned for Content,
        // with `size` bytes available at `offset`.
        unsafe {
            content.as_ptr().write(Content {
                refcnt: AtomicUsize::new(1),
                data: raw.add(offset),
                size,
                release: match class {
                    Some(class) => Release::Pooled(class),
                    None => Release::Inline(layout),
                },
            });
        }
        Ok(content)
    }

    /// Wraps bytes released by `release`, in a separate header allocation.
    fn wrap(data: *mut u8, size: usize, release: Release) -> NonNull<Content> {
        let boxed = Box::new(Content {
            refcnt: AtomicUsize::new(1),
            data,
            size,
            release,
        });
        NonNull::from(Box::leak(boxed))
    }

    /// Adds `n` references.
    fn add_refs(&self, n: usize) {
        self.refcnt.fetch_add(n, Ordering::Relaxed);
    }

    /// Drops one reference, releasing the content if it was the last one.
    ///
    /// # Safety
    /// `this` must be a live content and the caller must own one reference.
    unsafe fn release(this: NonNull<Content>) {
        // SAFETY: the caller owns a reference, so the content is alive.
        let c = unsafe { this.as_ref() };
        // A count of 1 means we hold the only reference and nobody can take a
        // new one, so the atomic read-modify-write can be skipped.
        if c.refcnt.load(Ordering::Acquire) != 1 {
            if c.refcnt.fetch_sub(1, Ordering::Release) != 1 {
                return;
            }
            fence(Ordering::Acquire);
        }
        // SAFETY: the last reference is gone; we own the content exclusively.
        unsafe { Content::destroy(this) }
    }

    /// # Safety
    /// No reference to `this` may remain.
    unsafe fn destroy(this: NonNull<Content>) {
        let raw = this.as_ptr();
        // SAFETY: exclusive ownership (see the caller); each arm releases the
        // memory the way it was obtained.
        unsafe {
            match (*raw).release {
                Release::Inline(layout) => {
                    ptr::drop_in_place(raw);
                    alloc::dealloc(raw as *mut u8, layout);
                }
                Release::Pooled(class) => {
                    ptr::drop_in_place(raw);
                    crate::pool::free(NonNull::new_unchecked(raw as *mut u8), class);
                }
                Release::Caller { free, hint } => {
                    let data = (*raw).data;
                    drop(Box::from_raw(raw));
                    free(data as *mut c_void, hint);
                }
                Release::Vec { capacity } => {
                    let (data, size) = ((*raw).data, (*raw).size);
                    drop(Box::from_raw(raw));
                    drop(Vec::from_raw_parts(data, size, capacity));
                }
            }
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy)]
struct SharedBody {
    content: NonNull<Content>,
    data: *mut u8,
    len: usize,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct ConstBody {
    data: *const u8,
    len: usize,
}

#[repr(C)]
union Body {
    inline: [u8; INLINE_AREA],
    shared: SharedBody,
    constant: ConstBody,
}

/// A group name (RADIO/DISH), NUL-terminated for `zmq_msg_group`.
#[derive(Clone, Debug)]
struct Group(CString);

/// One message frame.
#[repr(C)]
pub struct Msg {
    kind: Kind,
    flags: u8,
    inline_len: u8,
    _reserved: u8,
    routing_id: u32,
    metadata: Option<Arc<Metadata>>,
    group: Option<Box<Group>>,
    body: Body,
}

const _: () = assert!(mem::size_of::<Msg>() == 64);
const _: () = assert!(mem::align_of::<Msg>() <= mem::align_of::<*const u8>());

// SAFETY: a message exclusively owns its inline bytes or one reference to an
// immutable-once-shared content whose count is atomic; constant and caller
// buffers are by contract (zmq_msg_init_data(3)) valid from any thread.
unsafe impl Send for Msg {}

impl Msg {
    /// An empty message (`zmq_msg_init`).
    pub const fn new() -> Msg {
        Msg::with_kind(Kind::Inline)
    }

    const fn with_kind(kind: Kind) -> Msg {
        Msg {
            kind,
            flags: 0,
            inline_len: 0,
            _reserved: 0,
            routing_id: 0,
            metadata: None,
            group: None,
            body: Body {
                inline: [0; INLINE_AREA],
            },
        }
    }

    /// Makes this an empty message, as [`Msg::new`] does, releasing what
    /// it held. An inline message with nothing attached only has its
    /// header reset: its stale inline bytes are beyond its length (a
    /// message just sent, whose bytes were copied into a queue, is left so
    /// with a few stores rather than a whole new message).
    #[inline]
    pub fn clear(&mut self) {
        if self.kind == Kind::Inline && self.metadata.is_none() && self.group.is_none() {
            self.flags = 0;
            self.inline_len = 0;
            self.routing_id = 0;
        } else {
            *self = Msg::new();
        }
    }

    /// The end-of-pipe delimiter.
    pub const fn delimiter() -> Msg {
        Msg::with_kind(Kind::Delimiter)
    }

    /// A message of `size` zeroed bytes (`zmq_msg_init_size`).
    pub fn with_size(size: usize) -> Result<Msg> {
        if size <= INLINE_CAPACITY {
            let mut msg = Msg::new();
            msg.inline_len = size as u8;
            return Ok(msg);
        }
        let content = Content::alloc(size, true)?;
        // SAFETY: freshly allocated and initialised (zeroed).
        let data = unsafe { content.as_ref().data };
        Ok(Msg::shared(content, data, size))
    }

    /// Writes into `dst` a message of `size` bytes for the C caller to fill
    /// (`zmq_msg_init_size`), built in place: returning the 64-byte message
    /// by value through `Result` and then copying it into the caller's
    /// `zmq_msg_t` cost a stack round trip on every call.
    ///
    /// As in libzmq, a large body is not zeroed. Zeroing it cost a memset
    /// and a page fault per page of every message (1 MiB inproc messages ran
    /// at 5% of libzmq's rate), and the caller writes the bytes anyway. The
    /// buffer goes to C (`zmq_msg_data`) before this library reads it; a
    /// caller that sends bytes it never wrote sends indeterminate bytes, as
    /// with libzmq.
    ///
    /// # Safety
    /// `dst` is valid for writing a `Msg` (64 bytes, pointer-aligned); what
    /// it held is overwritten without being dropped.
    pub unsafe fn write_for_caller(dst: *mut Msg, size: usize) -> Result<()> {
        if size <= INLINE_CAPACITY {
            // SAFETY: per this function's contract.
            unsafe {
                ptr::write(dst, Msg::new());
                (*dst).inline_len = size as u8;
            }
            return Ok(());
        }
        let content = Content::alloc(size, false)?;
        // SAFETY: freshly allocated; the bytes are the caller's to write;
        // `dst` per this function's contract.
        unsafe {
            let data = content.as_ref().data;
            ptr::write(dst, Msg::shared(content, data, size));
        }
        Ok(())
    }

    fn shared(content: NonNull<Content>, data: *mut u8, len: usize) -> Msg {
        let mut msg = Msg::with_kind(Kind::Shared);
        msg.body = Body {
            shared: SharedBody { content, data, len },
        };
        msg
    }

    /// A message holding a copy of `bytes` (`zmq_msg_init_buffer`).
    pub fn from_slice(bytes: &[u8]) -> Result<Msg> {
        if bytes.len() <= INLINE_CAPACITY {
            let mut msg = Msg::with_size(bytes.len())?;
            msg.data_mut().copy_from_slice(bytes);
            return Ok(msg);
        }
        // One allocation (header and body), filled without zeroing first.
        let content = Content::alloc(bytes.len(), false)?;
        // SAFETY: the content's body has room for exactly `bytes.len()`
        // bytes, and a fresh allocation cannot overlap `bytes`.
        let data = unsafe {
            let data = content.as_ref().data;
            ptr::copy_nonoverlapping(bytes.as_ptr(), data, bytes.len());
            data
        };
        Ok(Msg::shared(content, data, bytes.len()))
    }

    /// The body's length if the message may cross a pipe as bytes (see
    /// crate::ypipe): a frame with an inline body, or one of this library's
    /// own shared bodies, of at most `max` bytes, and no group.
    pub(crate) fn compact_len(&self, max: usize) -> Option<usize> {
        let ours = match self.kind {
            Kind::Inline => true,
            // Not a caller's buffer: over inproc the receiver gets the very
            // bytes the sender gave (zero copy, freed when the receiver lets
            // them go), as with libzmq; a constant (`zmq_send_const`) stays
            // one, which `ZMQ_SHARED` reports.
            // SAFETY: the shared field is active and holds a live reference.
            Kind::Shared => unsafe {
                !matches!(self.body.shared.content.as_ref().release, Release::Caller { .. })
            },
            _ => false,
        };
        if !ours || self.group.is_some() {
            return None;
        }
        let len = self.size();
        (len <= max).then_some(len)
    }

    /// The whole inline area (initialised, [`INLINE_AREA`] bytes) of an
    /// inline message, whose body is its first [`Msg::size`] bytes.
    pub(crate) fn inline_area(&self) -> Option<&[u8; INLINE_AREA]> {
        // SAFETY: an inline message's area is its active field, initialised
        // whole when the message was made (`with_kind`).
        (self.kind == Kind::Inline).then(|| unsafe { &self.body.inline })
    }

    /// A message of the small frame `small` that crossed a pipe as bytes:
    /// inline up to [`INLINE_CAPACITY`] bytes (its padded cells copied
    /// whole), otherwise with a body of its own.
    pub(crate) fn from_small(small: &crate::ypipe::Small<'_>) -> Msg {
        let len = small.body.len();
        let mut msg = if len <= INLINE_CAPACITY {
            let mut msg = Msg::new();
            msg.fill_inline(small);
            msg
        } else {
            match Msg::from_slice(small.body) {
                Ok(msg) => msg,
                // As for any allocation the library makes without a way to
                // report it (libzmq asserts).
                Err(_) => alloc::handle_alloc_error(Layout::array::<u8>(len).unwrap_or(Layout::new::<u8>())),
            }
        };
        msg.set_small_header(small);
        msg
    }

    /// Copies the body of `small` (at most [`INLINE_CAPACITY`] bytes, its
    /// padded cells whole) into this inline message's area.
    #[inline]
    fn fill_inline(&mut self, small: &crate::ypipe::Small<'_>) {
        let len = small.body.len();
        assert!(self.kind == Kind::Inline && len <= INLINE_CAPACITY);
        // SAFETY: the inline area is the active field (checked); `padded`
        // bytes, at most INLINE_AREA for an inline length, are readable
        // from the body's start (`Small`).
        unsafe {
            crate::ypipe::copy_region(small.body.as_ptr(), self.body.inline.as_mut_ptr(), small.padded)
        };
        self.inline_len = len as u8;
    }

    /// Makes this message the small frame `small` that crossed a pipe as
    /// bytes (what it held is dropped). A body of its own that nobody else
    /// holds, from the pool and long enough, is refilled in place: a
    /// receiver that reads into the same `zmq_msg_t` again and again then
    /// neither frees nor allocates.
    pub(crate) fn assign_small(&mut self, small: &crate::ypipe::Small<'_>) {
        let len = small.body.len();
        if len <= INLINE_CAPACITY && self.kind == Kind::Inline && self.group.is_none() {
            // Inline into inline: the bytes are rewritten where they are,
            // and a connection's metadata already held is kept, not
            // released and taken again.
            self.fill_inline(small);
            self.set_small_header(small);
            return;
        }
        if len > INLINE_CAPACITY && self.kind == Kind::Shared && self.group.is_none() {
            // SAFETY: the shared field is active and holds a live reference.
            let (content, data) = unsafe { (self.body.shared.content, self.body.shared.data) };
            // SAFETY: as above.
            let c = unsafe { content.as_ref() };
            if c.refcnt.load(Ordering::Acquire) == 1
                && matches!(c.release, Release::Pooled(_))
                && data == c.data
                && len <= c.size
            {
                // Ours alone: nobody can take a new reference to it.
                // SAFETY: the content's body holds `c.size` bytes.
                unsafe { ptr::copy_nonoverlapping(small.body.as_ptr(), c.data, len) };
                self.body.shared.len = len;
                self.set_small_header(small);
                return;
            }
        }
        *self = Msg::from_small(small);
    }

    /// The flags, routing id and metadata of the small frame `small` (the
    /// metadata kept if it is the one already held).
    #[inline]
    fn set_small_header(&mut self, small: &crate::ypipe::Small<'_>) {
        self.flags = small.flags;
        self.routing_id = small.routing_id;
        match (&self.metadata, small.metadata) {
            (Some(a), Some(b)) if Arc::ptr_eq(a, b) => {}
            (None, None) => {}
            _ => self.metadata = small.metadata.cloned(),
        }
    }

    /// A buffer of `size` bytes to read a stream into, always shared (never
    /// inline), so that frames can be sliced out of it without copying.
    /// Its bytes are unwritten: fill them through [`Msg::data_ptr`] only,
    /// and read back only what was filled ([`Msg::filled`]).
    pub fn read_buffer(size: usize) -> Result<Msg> {
        let content = Content::alloc(size, false)?;
        // SAFETY: freshly allocated with `size` bytes of body.
        let data = unsafe { content.as_ref().data };
        Ok(Msg::shared(content, data, size))
    }

    /// Makes a read buffer ([`Msg::read_buffer`]) that no other message
    /// shares `size` bytes long (at least its size now), keeping its first
    /// `keep` bytes. A buffer in a block of its own from the allocator is
    /// grown by `realloc`, which glibc does for large blocks by moving pages,
    /// not bytes; a pooled one is copied into a new buffer.
    pub fn grow_read_buffer(&mut self, size: usize, keep: usize) -> Result<()> {
        assert!(self.kind == Kind::Shared && self.is_unique(), "an unshared read buffer");
        assert!(size >= self.size() && keep <= self.size());
        // SAFETY: the shared field is active and holds the only reference.
        let (content, data) = unsafe { (self.body.shared.content, self.body.shared.data) };
        // SAFETY: as above; the reference ends before the block may move.
        let layout = match unsafe { content.as_ref() } {
            Content {
                release: Release::Inline(layout),
                data: start,
                ..
            } if *start == data => Some(*layout),
            _ => None,
        };
        if let Some(layout) = layout {
            let body = Layout::array::<u8>(size).map_err(|_| Error::NoMemory)?;
            let (grown, offset) = Layout::new::<Content>()
                .extend(body)
                .map_err(|_| Error::NoMemory)?;
            // SAFETY: the block was allocated with `layout` (Release::Inline)
            // and is ours alone; the new size is non-zero and, with the same
            // alignment, a valid layout (checked by extend).
            let raw = unsafe { alloc::realloc(content.as_ptr().cast(), layout, grown.size()) };
            let content = NonNull::new(raw.cast::<Content>()).ok_or(Error::NoMemory)?;
            // SAFETY: the header moved with the block and is ours; the body
            // starts at the same offset, now `size` bytes long.
            unsafe {
                let data = raw.add(offset);
                let c = &mut *content.as_ptr();
                c.data = data;
                c.size = size;
                c.release = Release::Inline(grown);
                self.body.shared = SharedBody { content, data, len: size };
            }
            return Ok(());
        }
        let mut bigger = Msg::read_buffer(size)?;
        bigger.fill(0, self.filled(keep));
        *self = bigger;
        Ok(())
    }

    /// Whether no other message shares this body (always true for inline
    /// and constant bodies, which are never shared by reference).
    pub fn is_unique(&self) -> bool {
        match self.kind {
            // SAFETY: the shared field is active and holds a live reference.
            Kind::Shared => unsafe { self.body.shared.content.as_ref() }
                .refcnt
                .load(Ordering::Acquire)
                == 1,
            _ => true,
        }
    }

    /// The first `len` bytes of a [`Msg::read_buffer`], once written.
    pub fn filled(&self, len: usize) -> &[u8] {
        assert!(len <= self.size());
        // SAFETY: in bounds (checked); the caller wrote these bytes.
        unsafe { self.first_bytes(len) }
    }

    /// Writes `bytes` at `offset` of a read buffer ([`Msg::read_buffer`])
    /// that no other message shares.
    pub fn fill(&mut self, offset: usize, bytes: &[u8]) {
        assert!(self.kind == Kind::Shared && self.is_unique(), "an unshared read buffer");
        assert!(offset <= self.size() && bytes.len() <= self.size() - offset);
        // SAFETY: in bounds (checked), and the buffer is not shared, so
        // nobody reads these bytes while they are written; `bytes` cannot
        // overlap a buffer only we hold.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), self.data_ptr().add(offset), bytes.len()) };
    }

    /// A message whose body is `len` bytes at `offset` of this one's shared
    /// body, holding a reference to it: a frame sliced out of a read buffer.
    /// `self` must be shared (see [`Msg::read_buffer`]) and the range inside
    /// it and written.
    pub fn slice(&self, offset: usize, len: usize) -> Msg {
        assert!(self.kind == Kind::Shared, "slices come from shared bodies");
        // SAFETY: the shared field is active.
        let shared = unsafe { self.body.shared };
        assert!(offset <= shared.len && len <= shared.len - offset);
        // SAFETY: the content is live (we hold a reference) and gains one
        // for the new message; the range is inside the body (checked).
        unsafe {
            shared.content.as_ref().add_refs(1);
            Msg::shared(shared.content, shared.data.add(offset), len)
        }
    }

    /// A message that takes ownership of `bytes` without copying large ones.
    pub fn from_vec(mut bytes: Vec<u8>) -> Msg {
        if bytes.len() <= INLINE_CAPACITY {
            let mut msg = Msg::new();
            msg.inline_len = bytes.len() as u8;
            // SAFETY: `inline` is the active field of a fresh message.
            unsafe { msg.body.inline[..bytes.len()].copy_from_slice(&bytes) };
            return msg;
        }
        let (data, len, capacity) = (bytes.as_mut_ptr(), bytes.len(), bytes.capacity());
        mem::forget(bytes);
        let content = Content::wrap(data, len, Release::Vec { capacity });
        Msg::shared(content, data, len)
    }

    /// A zero-copy message over a caller's buffer (`zmq_msg_init_data`).
    ///
    /// With `free`, the buffer is released by `free(data, hint)` exactly once,
    /// when the last copy of the message is closed; without, it is treated as
    /// constant memory that outlives the message.
    ///
    /// # Safety
    /// `data` must be valid for reads (and writes, if the caller writes through
    /// [`Msg::data_ptr`]) of `size` bytes until released as above.
    pub unsafe fn from_raw_parts(
        data: *mut u8,
        size: usize,
        free: Option<FreeFn>,
        hint: *mut c_void,
    ) -> Msg {
        match free {
            None => {
                let mut msg = Msg::with_kind(Kind::Constant);
                msg.body = Body {
                    constant: ConstBody { data, len: size },
                };
                msg
            }
            Some(free) => {
                let content = Content::wrap(data, size, Release::Caller { free, hint });
                Msg::shared(content, data, size)
            }
        }
    }

    /// An RFC 29 subscription message: `\x01topic` subscribes, `\x00topic`
    /// cancels (ZMTP 3.1 SUBSCRIBE/CANCEL commands are taken in this form),
    /// flagged [`flags::SUBSCRIPTION`].
    pub fn subscription(subscribe: bool, topic: &[u8]) -> Msg {
        let mut body = Vec::with_capacity(topic.len() + 1);
        body.push(subscribe as u8);
        body.extend_from_slice(topic);
        let mut msg = Msg::from_vec(body);
        msg.set_flags(flags::SUBSCRIPTION);
        msg
    }

    /// A message over constant memory (`zmq_send_const`).
    ///
    /// # Safety
    /// `data` must stay valid and unchanged for `size` bytes for as long as any
    /// copy of the message exists.
    pub unsafe fn from_static(data: *const u8, size: usize) -> Msg {
        // SAFETY: forwarded contract; no free function is ever called.
        unsafe { Msg::from_raw_parts(data as *mut u8, size, None, ptr::null_mut()) }
    }

    /// What the message is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The body's length in bytes.
    pub fn size(&self) -> usize {
        // SAFETY: `kind` says which union field is active.
        unsafe {
            match self.kind {
                Kind::Shared => self.body.shared.len,
                Kind::Constant => self.body.constant.len,
                _ => self.inline_len as usize,
            }
        }
    }

    /// A pointer to the body (`zmq_msg_data`); valid while the message lives
    /// and is not moved (inline bodies move with the message).
    pub fn data_ptr(&mut self) -> *mut u8 {
        // SAFETY: `kind` says which union field is active.
        unsafe {
            match self.kind {
                Kind::Shared => self.body.shared.data,
                Kind::Constant => self.body.constant.data as *mut u8,
                _ => self.body.inline.as_mut_ptr(),
            }
        }
    }

    /// The body (every body but a read buffer's is written memory of its
    /// recorded length).
    pub fn data(&self) -> &[u8] {
        // SAFETY: the recorded length of a written body.
        unsafe { self.first_bytes(self.size()) }
    }

    /// The body's first `len` bytes.
    ///
    /// # Safety
    /// `len` is at most the body's size and those bytes are written.
    unsafe fn first_bytes(&self, len: usize) -> &[u8] {
        if len == 0 {
            return &[];
        }
        // SAFETY: `kind` says which union field is active; the range is the
        // caller's promise.
        unsafe {
            let base = match self.kind {
                Kind::Shared => self.body.shared.data as *const u8,
                Kind::Constant => self.body.constant.data,
                _ => self.body.inline.as_ptr(),
            };
            slice::from_raw_parts(base, len)
        }
    }

    /// The body, writable. Writing a shared body is seen by every copy, as in
    /// libzmq; writing a constant one is the caller's contract.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let len = self.size();
        if len == 0 {
            return &mut [];
        }
        // SAFETY: `data_ptr` points at `len` initialised bytes.
        unsafe { slice::from_raw_parts_mut(self.data_ptr(), len) }
    }

    /// The flags byte.
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Sets the given flag bits.
    pub fn set_flags(&mut self, bits: u8) {
        self.flags |= bits;
    }

    /// Clears the given flag bits.
    pub fn reset_flags(&mut self, bits: u8) {
        self.flags &= !bits;
    }

    /// More frames follow (`zmq_msg_more`).
    pub fn more(&self) -> bool {
        self.flags & flags::MORE != 0
    }

    /// Whether the body has been copied (`ZMQ_SHARED`): a copy was made, or the
    /// body is constant memory.
    pub fn is_shared(&self) -> bool {
        self.flags & flags::SHARED != 0 || self.kind == Kind::Constant
    }

    /// Whether this is the pipe delimiter.
    pub fn is_delimiter(&self) -> bool {
        self.kind == Kind::Delimiter
    }

    /// A copy sharing the body (`zmq_msg_copy`): inline bodies are duplicated,
    /// shared ones gain a reference, and both are marked [`flags::SHARED`].
    pub fn share(&mut self) -> Msg {
        if self.kind == Kind::Shared {
            // SAFETY: the shared field is active and holds a live reference.
            unsafe { self.body.shared.content.as_ref().add_refs(1) };
            self.flags |= flags::SHARED;
        }
        Msg {
            kind: self.kind,
            flags: self.flags,
            inline_len: self.inline_len,
            _reserved: 0,
            routing_id: self.routing_id,
            metadata: self.metadata.clone(),
            group: self.group.clone(),
            // SAFETY: a bitwise copy of the body; for shared bodies the reference
            // it carries was added above.
            body: unsafe { ptr::read(&self.body) },
        }
    }

    /// Takes the message out, leaving an empty one (`zmq_msg_move`).
    pub fn take(&mut self) -> Msg {
        mem::take(self)
    }

    /// The routing id (draft `zmq_msg_routing_id`); 0 when unset.
    pub fn routing_id(&self) -> u32 {
        self.routing_id
    }

    /// Sets the routing id; 0 is not a valid id.
    pub fn set_routing_id(&mut self, id: u32) -> Result<()> {
        if id == 0 {
            return Err(Error::Invalid);
        }
        self.routing_id = id;
        Ok(())
    }

    /// Clears the routing id.
    pub fn reset_routing_id(&mut self) {
        self.routing_id = 0;
    }

    /// The group (draft `zmq_msg_group`); empty when unset.
    pub fn group(&self) -> &CStr {
        match &self.group {
            Some(g) => g.0.as_c_str(),
            None => c"",
        }
    }

    /// Sets the group. As libzmq's `zmq_msg_set_group`, a longer name is cut
    /// to [`GROUP_MAX_LENGTH`] bytes.
    pub fn set_group(&mut self, group: &[u8]) -> Result<()> {
        let group = &group[..group.len().min(GROUP_MAX_LENGTH)];
        let name = CString::new(group).map_err(|_| Error::Invalid)?;
        self.group = Some(Box::new(Group(name)));
        Ok(())
    }

    /// The connection metadata attached on receive.
    pub fn metadata(&self) -> Option<&Arc<Metadata>> {
        self.metadata.as_ref()
    }

    /// Attaches connection metadata.
    pub fn set_metadata(&mut self, metadata: Arc<Metadata>) {
        self.metadata = Some(metadata);
    }

    /// Attaches `metadata` if the message has none of its own.
    pub(crate) fn inherit_metadata(&mut self, metadata: Option<&Arc<Metadata>>) {
        if let (None, Some(md)) = (&self.metadata, metadata) {
            self.metadata = Some(md.clone());
        }
    }

    /// Removes the metadata.
    pub fn reset_metadata(&mut self) {
        self.metadata = None;
    }

    /// A metadata property (`zmq_msg_gets`).
    pub fn property(&self, name: &str) -> Option<&CStr> {
        self.metadata.as_deref().and_then(|m| m.get(name))
    }

    /// Reads the first byte of a raw message representation: the kind, if the
    /// bytes hold a live message.
    ///
    /// # Safety
    /// `raw` must be readable for one byte.
    pub unsafe fn kind_at(raw: *const u8) -> Option<Kind> {
        // SAFETY: forwarded contract.
        Kind::from_byte(unsafe { raw.read() })
    }

    /// Marks a raw representation as closed, so that later use is detected.
    ///
    /// # Safety
    /// `raw` must be writable for one byte and hold no live message.
    pub unsafe fn mark_closed(raw: *mut u8) {
        // SAFETY: forwarded contract.
        unsafe { raw.write(0) }
    }

    /// Consumes the message without releasing its body: the caller takes over
    /// the reference (used to move a message into raw storage).
    pub fn into_raw(self) -> ManuallyDrop<Msg> {
        ManuallyDrop::new(self)
    }
}

impl Default for Msg {
    fn default() -> Msg {
        Msg::new()
    }
}

impl Drop for Msg {
    #[inline]
    fn drop(&mut self) {
        if self.kind == Kind::Shared {
            // SAFETY: the shared field is active and we own one reference.
            unsafe { Content::release(self.body.shared.content) }
        }
    }
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Msg")
            .field("kind", &self.kind)
            .field("flags", &self.flags)
            .field("size", &self.size())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn small_bodies_are_inline_and_large_ones_shared() {
        let m = Msg::with_size(INLINE_CAPACITY).unwrap();
        assert_eq!(m.kind(), Kind::Inline);
        assert_eq!(m.size(), INLINE_CAPACITY);
        let m = Msg::with_size(INLINE_CAPACITY + 1).unwrap();
        assert_eq!(m.kind(), Kind::Shared);
        assert_eq!(m.data(), &[0u8; INLINE_CAPACITY + 1][..]);
    }

    #[test]
    fn share_keeps_one_body_and_marks_both() {
        let mut a = Msg::from_slice(&[7u8; 1000]).unwrap();
        assert!(!a.is_shared());
        let mut b = a.share();
        assert_eq!(a.data_ptr(), b.data_ptr());
        assert!(a.is_shared() && b.is_shared());
        drop(a);
        assert_eq!(b.data(), &[7u8; 1000][..]);
    }

    #[test]
    fn inline_share_copies_bytes() {
        let mut a = Msg::from_slice(b"hello").unwrap();
        let b = a.share();
        assert_eq!(b.data(), b"hello");
        assert!(!b.is_shared());
    }

    #[test]
    fn take_leaves_empty_message() {
        let mut a = Msg::from_slice(b"x").unwrap();
        a.set_flags(flags::MORE);
        let b = a.take();
        assert!(b.more());
        assert_eq!(a.size(), 0);
        assert!(!a.more());
    }

    static FREES: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C" fn count_free(data: *mut c_void, hint: *mut c_void) {
        assert_eq!(hint as usize, 42);
        FREES.fetch_add(1, Ordering::SeqCst);
        // SAFETY: the test hands over a leaked Box<[u8; 100]>.
        drop(unsafe { Box::from_raw(data as *mut [u8; 100]) });
    }

    #[test]
    fn caller_buffer_freed_once_when_last_copy_goes() {
        let buf = Box::into_raw(Box::new([1u8; 100])) as *mut u8;
        // SAFETY: the buffer is valid until count_free releases it.
        let mut a = unsafe { Msg::from_raw_parts(buf, 100, Some(count_free), 42 as *mut c_void) };
        let b = a.share();
        let c = a.share();
        drop(a);
        drop(b);
        assert_eq!(FREES.load(Ordering::SeqCst), 0);
        drop(c);
        assert_eq!(FREES.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn copies_cross_threads() {
        let mut a = Msg::from_vec(vec![3u8; 4096]);
        let copies: Vec<Msg> = (0..8).map(|_| a.share()).collect();
        let handles: Vec<_> = copies
            .into_iter()
            .map(|m| {
                std::thread::spawn(move || m.data().iter().map(|&b| b as usize).sum::<usize>())
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), 3 * 4096);
        }
        assert_eq!(a.data().len(), 4096);
    }

    #[test]
    fn routing_id_and_group() {
        let mut m = Msg::new();
        assert_eq!(m.set_routing_id(0), Err(Error::Invalid));
        m.set_routing_id(5).unwrap();
        assert_eq!(m.routing_id(), 5);
        assert_eq!(m.group(), c"");
        m.set_group(b"weather").unwrap();
        assert_eq!(m.group(), c"weather");
        m.set_group(&[b'a'; 300]).unwrap();
        assert_eq!(m.group().to_bytes(), &[b'a'; 255][..]);
    }

    #[test]
    fn metadata_lookup() {
        let mut md = Metadata::new();
        md.insert("Socket-Type", b"DEALER");
        let mut m = Msg::new();
        assert!(m.property("Socket-Type").is_none());
        m.set_metadata(Arc::new(md));
        assert_eq!(m.property("Socket-Type").unwrap(), c"DEALER");
        assert!(m.property("User-Id").is_none());
    }

    #[test]
    fn absurd_sizes_are_enomem_not_abort() {
        assert_eq!(Msg::with_size(usize::MAX).unwrap_err(), Error::NoMemory);
        assert_eq!(
            Msg::with_size(isize::MAX as usize).unwrap_err(),
            Error::NoMemory
        );
    }
}
