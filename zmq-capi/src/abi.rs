//! The C ABI, declared once: every constant, type and function of `zmq.h`.
//!
//! This module is the single source of truth for the ABI. cbindgen reads its
//! constants and types (and the `#[no_mangle]` definitions elsewhere in the
//! crate) to generate `include/zmq.h`; ctest reads this file alone and checks
//! it against both Debian's `/usr/include/zmq.h` and our generated header; a
//! test checks that the symbols the library exports are exactly the functions
//! declared in the `extern "C"` block below.
//!
//! It must compile as a crate root on its own (ctest expands it with rustc), so
//! it uses only `core`.
#![allow(non_camel_case_types, dead_code, clippy::all)]

use core::ffi::{c_char, c_int, c_long, c_short, c_ulong, c_void};

// Version macros for compile-time API version detection
pub const ZMQ_VERSION_MAJOR: c_int = 4;
pub const ZMQ_VERSION_MINOR: c_int = 3;
pub const ZMQ_VERSION_PATCH: c_int = 4;
// Handle DSO symbol visibility
// Define integer types needed for event interface
pub const ZMQ_DEFINED_STDINT: c_int = 1;
// 0MQ errors.
// A number random enough not to collide with different errno ranges on
// different OSes. The assumption is that error_t is at least 32-bit type.
pub const ZMQ_HAUSNUMERO: c_int = 156384712;
// On Windows platform some of the standard POSIX errnos are not defined.
// Native 0MQ error codes.
pub const EFSM: c_int = ZMQ_HAUSNUMERO + 51;
pub const ENOCOMPATPROTO: c_int = ZMQ_HAUSNUMERO + 52;
pub const ETERM: c_int = ZMQ_HAUSNUMERO + 53;
pub const EMTHREAD: c_int = ZMQ_HAUSNUMERO + 54;
// This function retrieves the errno as it is known to 0MQ library. The goal
// of this function is to make the code 100% portable, including where 0MQ
// compiled with certain CRT library (on Windows) is linked to an
// application that uses different CRT library.
// Resolves system errors and 0MQ errors to human-readable string.
// Run-time API version detection
// 0MQ infrastructure (a.k.a. context) initialisation & termination.
// Context options
pub const ZMQ_IO_THREADS: c_int = 1;
pub const ZMQ_MAX_SOCKETS: c_int = 2;
pub const ZMQ_SOCKET_LIMIT: c_int = 3;
pub const ZMQ_THREAD_PRIORITY: c_int = 3;
pub const ZMQ_THREAD_SCHED_POLICY: c_int = 4;
pub const ZMQ_MAX_MSGSZ: c_int = 5;
pub const ZMQ_MSG_T_SIZE: c_int = 6;
pub const ZMQ_THREAD_AFFINITY_CPU_ADD: c_int = 7;
pub const ZMQ_THREAD_AFFINITY_CPU_REMOVE: c_int = 8;
pub const ZMQ_THREAD_NAME_PREFIX: c_int = 9;
// Default for new contexts
pub const ZMQ_IO_THREADS_DFLT: c_int = 1;
pub const ZMQ_MAX_SOCKETS_DFLT: c_int = 1023;
pub const ZMQ_THREAD_PRIORITY_DFLT: c_int = -1;
pub const ZMQ_THREAD_SCHED_POLICY_DFLT: c_int = -1;
// Old (legacy) API
// 0MQ message definition.
// 0MQ socket definition.
// Socket types.
pub const ZMQ_PAIR: c_int = 0;
pub const ZMQ_PUB: c_int = 1;
pub const ZMQ_SUB: c_int = 2;
pub const ZMQ_REQ: c_int = 3;
pub const ZMQ_REP: c_int = 4;
pub const ZMQ_DEALER: c_int = 5;
pub const ZMQ_ROUTER: c_int = 6;
pub const ZMQ_PULL: c_int = 7;
pub const ZMQ_PUSH: c_int = 8;
pub const ZMQ_XPUB: c_int = 9;
pub const ZMQ_XSUB: c_int = 10;
pub const ZMQ_STREAM: c_int = 11;
// Deprecated aliases
pub const ZMQ_XREQ: c_int = ZMQ_DEALER;
pub const ZMQ_XREP: c_int = ZMQ_ROUTER;
// Socket options.
pub const ZMQ_AFFINITY: c_int = 4;
pub const ZMQ_ROUTING_ID: c_int = 5;
pub const ZMQ_SUBSCRIBE: c_int = 6;
pub const ZMQ_UNSUBSCRIBE: c_int = 7;
pub const ZMQ_RATE: c_int = 8;
pub const ZMQ_RECOVERY_IVL: c_int = 9;
pub const ZMQ_SNDBUF: c_int = 11;
pub const ZMQ_RCVBUF: c_int = 12;
pub const ZMQ_RCVMORE: c_int = 13;
pub const ZMQ_FD: c_int = 14;
pub const ZMQ_EVENTS: c_int = 15;
pub const ZMQ_TYPE: c_int = 16;
pub const ZMQ_LINGER: c_int = 17;
pub const ZMQ_RECONNECT_IVL: c_int = 18;
pub const ZMQ_BACKLOG: c_int = 19;
pub const ZMQ_RECONNECT_IVL_MAX: c_int = 21;
pub const ZMQ_MAXMSGSIZE: c_int = 22;
pub const ZMQ_SNDHWM: c_int = 23;
pub const ZMQ_RCVHWM: c_int = 24;
pub const ZMQ_MULTICAST_HOPS: c_int = 25;
pub const ZMQ_RCVTIMEO: c_int = 27;
pub const ZMQ_SNDTIMEO: c_int = 28;
pub const ZMQ_LAST_ENDPOINT: c_int = 32;
pub const ZMQ_ROUTER_MANDATORY: c_int = 33;
pub const ZMQ_TCP_KEEPALIVE: c_int = 34;
pub const ZMQ_TCP_KEEPALIVE_CNT: c_int = 35;
pub const ZMQ_TCP_KEEPALIVE_IDLE: c_int = 36;
pub const ZMQ_TCP_KEEPALIVE_INTVL: c_int = 37;
pub const ZMQ_IMMEDIATE: c_int = 39;
pub const ZMQ_XPUB_VERBOSE: c_int = 40;
pub const ZMQ_ROUTER_RAW: c_int = 41;
pub const ZMQ_IPV6: c_int = 42;
pub const ZMQ_MECHANISM: c_int = 43;
pub const ZMQ_PLAIN_SERVER: c_int = 44;
pub const ZMQ_PLAIN_USERNAME: c_int = 45;
pub const ZMQ_PLAIN_PASSWORD: c_int = 46;
pub const ZMQ_CURVE_SERVER: c_int = 47;
pub const ZMQ_CURVE_PUBLICKEY: c_int = 48;
pub const ZMQ_CURVE_SECRETKEY: c_int = 49;
pub const ZMQ_CURVE_SERVERKEY: c_int = 50;
pub const ZMQ_PROBE_ROUTER: c_int = 51;
pub const ZMQ_REQ_CORRELATE: c_int = 52;
pub const ZMQ_REQ_RELAXED: c_int = 53;
pub const ZMQ_CONFLATE: c_int = 54;
pub const ZMQ_ZAP_DOMAIN: c_int = 55;
pub const ZMQ_ROUTER_HANDOVER: c_int = 56;
pub const ZMQ_TOS: c_int = 57;
pub const ZMQ_CONNECT_ROUTING_ID: c_int = 61;
pub const ZMQ_GSSAPI_SERVER: c_int = 62;
pub const ZMQ_GSSAPI_PRINCIPAL: c_int = 63;
pub const ZMQ_GSSAPI_SERVICE_PRINCIPAL: c_int = 64;
pub const ZMQ_GSSAPI_PLAINTEXT: c_int = 65;
pub const ZMQ_HANDSHAKE_IVL: c_int = 66;
pub const ZMQ_SOCKS_PROXY: c_int = 68;
pub const ZMQ_XPUB_NODROP: c_int = 69;
pub const ZMQ_BLOCKY: c_int = 70;
pub const ZMQ_XPUB_MANUAL: c_int = 71;
pub const ZMQ_XPUB_WELCOME_MSG: c_int = 72;
pub const ZMQ_STREAM_NOTIFY: c_int = 73;
pub const ZMQ_INVERT_MATCHING: c_int = 74;
pub const ZMQ_HEARTBEAT_IVL: c_int = 75;
pub const ZMQ_HEARTBEAT_TTL: c_int = 76;
pub const ZMQ_HEARTBEAT_TIMEOUT: c_int = 77;
pub const ZMQ_XPUB_VERBOSER: c_int = 78;
pub const ZMQ_CONNECT_TIMEOUT: c_int = 79;
pub const ZMQ_TCP_MAXRT: c_int = 80;
pub const ZMQ_THREAD_SAFE: c_int = 81;
pub const ZMQ_MULTICAST_MAXTPDU: c_int = 84;
pub const ZMQ_VMCI_BUFFER_SIZE: c_int = 85;
pub const ZMQ_VMCI_BUFFER_MIN_SIZE: c_int = 86;
pub const ZMQ_VMCI_BUFFER_MAX_SIZE: c_int = 87;
pub const ZMQ_VMCI_CONNECT_TIMEOUT: c_int = 88;
pub const ZMQ_USE_FD: c_int = 89;
pub const ZMQ_GSSAPI_PRINCIPAL_NAMETYPE: c_int = 90;
pub const ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE: c_int = 91;
pub const ZMQ_BINDTODEVICE: c_int = 92;
// Message options
pub const ZMQ_MORE: c_int = 1;
pub const ZMQ_SHARED: c_int = 3;
// Send/recv options.
pub const ZMQ_DONTWAIT: c_int = 1;
pub const ZMQ_SNDMORE: c_int = 2;
// Security mechanisms
pub const ZMQ_NULL: c_int = 0;
pub const ZMQ_PLAIN: c_int = 1;
pub const ZMQ_CURVE: c_int = 2;
pub const ZMQ_GSSAPI: c_int = 3;
// RADIO-DISH protocol
pub const ZMQ_GROUP_MAX_LENGTH: c_int = 255;
// Deprecated options and aliases
pub const ZMQ_IDENTITY: c_int = ZMQ_ROUTING_ID;
pub const ZMQ_CONNECT_RID: c_int = ZMQ_CONNECT_ROUTING_ID;
pub const ZMQ_TCP_ACCEPT_FILTER: c_int = 38;
pub const ZMQ_IPC_FILTER_PID: c_int = 58;
pub const ZMQ_IPC_FILTER_UID: c_int = 59;
pub const ZMQ_IPC_FILTER_GID: c_int = 60;
pub const ZMQ_IPV4ONLY: c_int = 31;
pub const ZMQ_DELAY_ATTACH_ON_CONNECT: c_int = ZMQ_IMMEDIATE;
pub const ZMQ_NOBLOCK: c_int = ZMQ_DONTWAIT;
pub const ZMQ_FAIL_UNROUTABLE: c_int = ZMQ_ROUTER_MANDATORY;
pub const ZMQ_ROUTER_BEHAVIOR: c_int = ZMQ_ROUTER_MANDATORY;
// Deprecated Message options
pub const ZMQ_SRCFD: c_int = 2;
// GSSAPI definitions
// GSSAPI principal name types
pub const ZMQ_GSSAPI_NT_HOSTBASED: c_int = 0;
pub const ZMQ_GSSAPI_NT_USER_NAME: c_int = 1;
pub const ZMQ_GSSAPI_NT_KRB5_PRINCIPAL: c_int = 2;
// 0MQ socket events and monitoring
// Socket transport events (TCP, IPC and TIPC only)
pub const ZMQ_EVENT_CONNECTED: c_int = 0x0001;
pub const ZMQ_EVENT_CONNECT_DELAYED: c_int = 0x0002;
pub const ZMQ_EVENT_CONNECT_RETRIED: c_int = 0x0004;
pub const ZMQ_EVENT_LISTENING: c_int = 0x0008;
pub const ZMQ_EVENT_BIND_FAILED: c_int = 0x0010;
pub const ZMQ_EVENT_ACCEPTED: c_int = 0x0020;
pub const ZMQ_EVENT_ACCEPT_FAILED: c_int = 0x0040;
pub const ZMQ_EVENT_CLOSED: c_int = 0x0080;
pub const ZMQ_EVENT_CLOSE_FAILED: c_int = 0x0100;
pub const ZMQ_EVENT_DISCONNECTED: c_int = 0x0200;
pub const ZMQ_EVENT_MONITOR_STOPPED: c_int = 0x0400;
pub const ZMQ_EVENT_ALL: c_int = 0xFFFF;
// Unspecified system errors during handshake. Event value is an errno.
pub const ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: c_int = 0x0800;
pub const ZMQ_EVENT_HANDSHAKE_SUCCEEDED: c_int = 0x1000;
pub const ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: c_int = 0x2000;
pub const ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: c_int = 0x4000;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED: c_int = 0x10000000;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND: c_int = 0x10000001;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE: c_int = 0x10000002;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE: c_int = 0x10000003;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED: c_int = 0x10000011;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE: c_int = 0x10000012;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO: c_int = 0x10000013;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE: c_int = 0x10000014;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR: c_int = 0x10000015;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY: c_int = 0x10000016;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME: c_int = 0x10000017;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA: c_int = 0x10000018;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC: c_int = 0x11000001;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH: c_int = 0x11000002;
pub const ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED: c_int = 0x20000000;
pub const ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY: c_int = 0x20000001;
pub const ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID: c_int = 0x20000002;
pub const ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION: c_int = 0x20000003;
pub const ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE: c_int = 0x20000004;
pub const ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA: c_int = 0x20000005;
pub const ZMQ_PROTOCOL_ERROR_WS_UNSPECIFIED: c_int = 0x30000000;
// Hide socket fd type; this was before zmq_poller_event_t typedef below
// Deprecated I/O multiplexing. Prefer using zmq_poller API
pub const ZMQ_POLLIN: c_int = 1;
pub const ZMQ_POLLOUT: c_int = 2;
pub const ZMQ_POLLERR: c_int = 4;
pub const ZMQ_POLLPRI: c_int = 8;
pub const ZMQ_POLLITEMS_DFLT: c_int = 16;
// Message proxying
// Probe library capabilities
pub const ZMQ_HAS_CAPABILITIES: c_int = 1;
// Deprecated aliases
pub const ZMQ_STREAMER: c_int = 1;
pub const ZMQ_FORWARDER: c_int = 2;
pub const ZMQ_QUEUE: c_int = 3;
// Deprecated methods
// Encryption functions
// Encode data with Z85 encoding. Returns encoded data
// Decode data with Z85 encoding. Returns decoded data
// Generate z85-encoded public and private keypair with tweetnacl/libsodium.
// Returns 0 on success.
// Derive the z85-encoded public key from the z85-encoded secret key.
// Returns 0 on success.
// Atomic utility methods
// Scheduling timers
// These functions are not documented by man pages -- use at your own risk.
// If you need these to be part of the formal ZMQ API, then (a) write a man
// page, and (b) write a test case in tests.
// Helper functions are used by perf tests so that they don't have to care
// about minutiae of time-related functions on different OS platforms.
// Starts the stopwatch. Returns the handle to the watch.
// Returns the number of microseconds elapsed since the stopwatch was
// started, but does not stop or deallocate the stopwatch.
// Stops the stopwatch. Returns the number of microseconds elapsed since
// the stopwatch was started, and deallocates that watch.
// Sleeps for specified number of seconds.
// These functions are DRAFT and disabled in stable releases, and subject to
// change at ANY time until declared stable.
// DRAFT Socket types.
#[cfg(feature = "draft")]
pub const ZMQ_SERVER: c_int = 12;
#[cfg(feature = "draft")]
pub const ZMQ_CLIENT: c_int = 13;
#[cfg(feature = "draft")]
pub const ZMQ_RADIO: c_int = 14;
#[cfg(feature = "draft")]
pub const ZMQ_DISH: c_int = 15;
#[cfg(feature = "draft")]
pub const ZMQ_GATHER: c_int = 16;
#[cfg(feature = "draft")]
pub const ZMQ_SCATTER: c_int = 17;
#[cfg(feature = "draft")]
pub const ZMQ_DGRAM: c_int = 18;
#[cfg(feature = "draft")]
pub const ZMQ_PEER: c_int = 19;
#[cfg(feature = "draft")]
pub const ZMQ_CHANNEL: c_int = 20;
// DRAFT Socket options.
#[cfg(feature = "draft")]
pub const ZMQ_ZAP_ENFORCE_DOMAIN: c_int = 93;
#[cfg(feature = "draft")]
pub const ZMQ_LOOPBACK_FASTPATH: c_int = 94;
#[cfg(feature = "draft")]
pub const ZMQ_METADATA: c_int = 95;
#[cfg(feature = "draft")]
pub const ZMQ_MULTICAST_LOOP: c_int = 96;
#[cfg(feature = "draft")]
pub const ZMQ_ROUTER_NOTIFY: c_int = 97;
#[cfg(feature = "draft")]
pub const ZMQ_XPUB_MANUAL_LAST_VALUE: c_int = 98;
#[cfg(feature = "draft")]
pub const ZMQ_SOCKS_USERNAME: c_int = 99;
#[cfg(feature = "draft")]
pub const ZMQ_SOCKS_PASSWORD: c_int = 100;
#[cfg(feature = "draft")]
pub const ZMQ_IN_BATCH_SIZE: c_int = 101;
#[cfg(feature = "draft")]
pub const ZMQ_OUT_BATCH_SIZE: c_int = 102;
#[cfg(feature = "draft")]
pub const ZMQ_WSS_KEY_PEM: c_int = 103;
#[cfg(feature = "draft")]
pub const ZMQ_WSS_CERT_PEM: c_int = 104;
#[cfg(feature = "draft")]
pub const ZMQ_WSS_TRUST_PEM: c_int = 105;
#[cfg(feature = "draft")]
pub const ZMQ_WSS_HOSTNAME: c_int = 106;
#[cfg(feature = "draft")]
pub const ZMQ_WSS_TRUST_SYSTEM: c_int = 107;
#[cfg(feature = "draft")]
pub const ZMQ_ONLY_FIRST_SUBSCRIBE: c_int = 108;
#[cfg(feature = "draft")]
pub const ZMQ_RECONNECT_STOP: c_int = 109;
#[cfg(feature = "draft")]
pub const ZMQ_HELLO_MSG: c_int = 110;
#[cfg(feature = "draft")]
pub const ZMQ_DISCONNECT_MSG: c_int = 111;
#[cfg(feature = "draft")]
pub const ZMQ_PRIORITY: c_int = 112;
// DRAFT ZMQ_RECONNECT_STOP options
#[cfg(feature = "draft")]
pub const ZMQ_RECONNECT_STOP_CONN_REFUSED: c_int = 0x1;
#[cfg(feature = "draft")]
pub const ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED: c_int = 0x2;
#[cfg(feature = "draft")]
pub const ZMQ_RECONNECT_STOP_AFTER_DISCONNECT: c_int = 0x3;
// DRAFT Context options
#[cfg(feature = "draft")]
pub const ZMQ_ZERO_COPY_RECV: c_int = 10;
// DRAFT Context methods.
// DRAFT Socket methods.
// DRAFT Msg methods.
// DRAFT Msg property names.
#[cfg(feature = "draft")]
// cbindgen has no string constants: these are written in cbindgen.toml.
/// cbindgen:ignore
pub const ZMQ_MSG_PROPERTY_ROUTING_ID: *const c_char = c"Routing-Id".as_ptr();
#[cfg(feature = "draft")]
// cbindgen has no string constants: these are written in cbindgen.toml.
/// cbindgen:ignore
pub const ZMQ_MSG_PROPERTY_SOCKET_TYPE: *const c_char = c"Socket-Type".as_ptr();
#[cfg(feature = "draft")]
// cbindgen has no string constants: these are written in cbindgen.toml.
/// cbindgen:ignore
pub const ZMQ_MSG_PROPERTY_USER_ID: *const c_char = c"User-Id".as_ptr();
#[cfg(feature = "draft")]
// cbindgen has no string constants: these are written in cbindgen.toml.
/// cbindgen:ignore
pub const ZMQ_MSG_PROPERTY_PEER_ADDRESS: *const c_char = c"Peer-Address".as_ptr();
// Router notify options
#[cfg(feature = "draft")]
pub const ZMQ_NOTIFY_CONNECT: c_int = 1;
#[cfg(feature = "draft")]
pub const ZMQ_NOTIFY_DISCONNECT: c_int = 2;
// Poller polling on sockets,fd and thread-safe sockets
// DRAFT Socket monitoring events
#[cfg(feature = "draft")]
pub const ZMQ_EVENT_PIPES_STATS: c_int = 0x10000;
#[cfg(feature = "draft")]
pub const ZMQ_CURRENT_EVENT_VERSION: c_int = 1;
#[cfg(feature = "draft")]
pub const ZMQ_CURRENT_EVENT_VERSION_DRAFT: c_int = 2;
#[cfg(feature = "draft")]
pub const ZMQ_EVENT_ALL_V1: c_int = ZMQ_EVENT_ALL;
#[cfg(feature = "draft")]
pub const ZMQ_EVENT_ALL_V2: c_int = ZMQ_EVENT_ALL_V1 | ZMQ_EVENT_PIPES_STATS;

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/// A message: 64 opaque bytes, pointer-aligned, owned by the caller.
///
/// cbindgen:field-names=[_]
#[allow(rustdoc::broken_intra_doc_links)]
#[repr(C, align(8))]
#[derive(Clone, Copy)]
pub struct zmq_msg_t {
    pub __: [u8; 64],
}

/// A socket's or a plain file descriptor's handle for `zmq_poll`.
pub type zmq_fd_t = c_int;

/// One entry of a `zmq_poll` set.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct zmq_pollitem_t {
    pub socket: *mut c_void,
    pub fd: zmq_fd_t,
    pub events: c_short,
    pub revents: c_short,
}

/// Releases a zero-copy message body (`zmq_msg_init_data`). In C this is a
/// function type (`typedef void (zmq_free_fn) (void *, void *)`), written by
/// hand in the header; a parameter of that type is a pointer to it.
pub type zmq_free_fn = unsafe extern "C" fn(data_: *mut c_void, hint_: *mut c_void);

/// A timer handler (`zmq_timers_add`), a function type in C as above.
pub type zmq_timer_fn = unsafe extern "C" fn(timer_id: c_int, arg: *mut c_void);

/// A thread body (`zmq_threadstart`), a function type in C as above.
pub type zmq_thread_fn = unsafe extern "C" fn(arg_: *mut c_void);

/// One ready entry returned by `zmq_poller_wait`.
#[cfg(feature = "draft")]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct zmq_poller_event_t {
    pub socket: *mut c_void,
    pub fd: zmq_fd_t,
    pub user_data: *mut c_void,
    pub events: c_short,
}

/// `struct iovec` of `<sys/uio.h>`, forward-declared in the header.
#[repr(C)]
pub struct iovec {
    pub iov_base: *mut c_void,
    pub iov_len: usize,
}

// ---------------------------------------------------------------------------
// Functions: every export of libzmq.so.5, in the header's order. cbindgen
// takes prototypes from the definitions, so it skips these blocks.
// ---------------------------------------------------------------------------

#[allow(unused_doc_comments)]
/// cbindgen:ignore
extern "C" {
    pub fn zmq_errno() -> c_int;
    pub fn zmq_strerror(errnum_: c_int) -> *const c_char;
    pub fn zmq_version(major_: *mut c_int, minor_: *mut c_int, patch_: *mut c_int);

    pub fn zmq_ctx_new() -> *mut c_void;
    pub fn zmq_ctx_term(context_: *mut c_void) -> c_int;
    pub fn zmq_ctx_shutdown(context_: *mut c_void) -> c_int;
    pub fn zmq_ctx_set(context_: *mut c_void, option_: c_int, optval_: c_int) -> c_int;
    pub fn zmq_ctx_get(context_: *mut c_void, option_: c_int) -> c_int;
    pub fn zmq_init(io_threads_: c_int) -> *mut c_void;
    pub fn zmq_term(context_: *mut c_void) -> c_int;
    pub fn zmq_ctx_destroy(context_: *mut c_void) -> c_int;

    pub fn zmq_msg_init(msg_: *mut zmq_msg_t) -> c_int;
    pub fn zmq_msg_init_size(msg_: *mut zmq_msg_t, size_: usize) -> c_int;
    pub fn zmq_msg_init_data(
        msg_: *mut zmq_msg_t,
        data_: *mut c_void,
        size_: usize,
        ffn_: Option<zmq_free_fn>,
        hint_: *mut c_void,
    ) -> c_int;
    pub fn zmq_msg_send(msg_: *mut zmq_msg_t, s_: *mut c_void, flags_: c_int) -> c_int;
    pub fn zmq_msg_recv(msg_: *mut zmq_msg_t, s_: *mut c_void, flags_: c_int) -> c_int;
    pub fn zmq_msg_close(msg_: *mut zmq_msg_t) -> c_int;
    pub fn zmq_msg_move(dest_: *mut zmq_msg_t, src_: *mut zmq_msg_t) -> c_int;
    pub fn zmq_msg_copy(dest_: *mut zmq_msg_t, src_: *mut zmq_msg_t) -> c_int;
    pub fn zmq_msg_data(msg_: *mut zmq_msg_t) -> *mut c_void;
    pub fn zmq_msg_size(msg_: *const zmq_msg_t) -> usize;
    pub fn zmq_msg_more(msg_: *const zmq_msg_t) -> c_int;
    pub fn zmq_msg_get(msg_: *const zmq_msg_t, property_: c_int) -> c_int;
    pub fn zmq_msg_set(msg_: *mut zmq_msg_t, property_: c_int, optval_: c_int) -> c_int;
    pub fn zmq_msg_gets(msg_: *const zmq_msg_t, property_: *const c_char) -> *const c_char;

    pub fn zmq_socket(context_: *mut c_void, type_: c_int) -> *mut c_void;
    pub fn zmq_close(s_: *mut c_void) -> c_int;
    pub fn zmq_setsockopt(
        s_: *mut c_void,
        option_: c_int,
        optval_: *const c_void,
        optvallen_: usize,
    ) -> c_int;
    pub fn zmq_getsockopt(
        s_: *mut c_void,
        option_: c_int,
        optval_: *mut c_void,
        optvallen_: *mut usize,
    ) -> c_int;
    pub fn zmq_bind(s_: *mut c_void, addr_: *const c_char) -> c_int;
    pub fn zmq_connect(s_: *mut c_void, addr_: *const c_char) -> c_int;
    pub fn zmq_unbind(s_: *mut c_void, addr_: *const c_char) -> c_int;
    pub fn zmq_disconnect(s_: *mut c_void, addr_: *const c_char) -> c_int;
    pub fn zmq_send(s_: *mut c_void, buf_: *const c_void, len_: usize, flags_: c_int) -> c_int;
    pub fn zmq_send_const(
        s_: *mut c_void,
        buf_: *const c_void,
        len_: usize,
        flags_: c_int,
    ) -> c_int;
    pub fn zmq_recv(s_: *mut c_void, buf_: *mut c_void, len_: usize, flags_: c_int) -> c_int;
    pub fn zmq_socket_monitor(s_: *mut c_void, addr_: *const c_char, events_: c_int) -> c_int;

    pub fn zmq_poll(items_: *mut zmq_pollitem_t, nitems_: c_int, timeout_: c_long) -> c_int;

    pub fn zmq_proxy(frontend_: *mut c_void, backend_: *mut c_void, capture_: *mut c_void)
        -> c_int;
    pub fn zmq_proxy_steerable(
        frontend_: *mut c_void,
        backend_: *mut c_void,
        capture_: *mut c_void,
        control_: *mut c_void,
    ) -> c_int;

    pub fn zmq_has(capability_: *const c_char) -> c_int;

    pub fn zmq_device(type_: c_int, frontend_: *mut c_void, backend_: *mut c_void) -> c_int;
    pub fn zmq_sendmsg(s_: *mut c_void, msg_: *mut zmq_msg_t, flags_: c_int) -> c_int;
    pub fn zmq_recvmsg(s_: *mut c_void, msg_: *mut zmq_msg_t, flags_: c_int) -> c_int;
    pub fn zmq_sendiov(s_: *mut c_void, iov_: *mut iovec, count_: usize, flags_: c_int) -> c_int;
    pub fn zmq_recviov(
        s_: *mut c_void,
        iov_: *mut iovec,
        count_: *mut usize,
        flags_: c_int,
    ) -> c_int;

    pub fn zmq_z85_encode(dest_: *mut c_char, data_: *const u8, size_: usize) -> *mut c_char;
    pub fn zmq_z85_decode(dest_: *mut u8, string_: *const c_char) -> *mut u8;
    pub fn zmq_curve_keypair(z85_public_key_: *mut c_char, z85_secret_key_: *mut c_char) -> c_int;
    pub fn zmq_curve_public(z85_public_key_: *mut c_char, z85_secret_key_: *const c_char) -> c_int;

    pub fn zmq_atomic_counter_new() -> *mut c_void;
    pub fn zmq_atomic_counter_set(counter_: *mut c_void, value_: c_int);
    pub fn zmq_atomic_counter_inc(counter_: *mut c_void) -> c_int;
    pub fn zmq_atomic_counter_dec(counter_: *mut c_void) -> c_int;
    pub fn zmq_atomic_counter_value(counter_: *mut c_void) -> c_int;
    pub fn zmq_atomic_counter_destroy(counter_p_: *mut *mut c_void);

    pub fn zmq_timers_new() -> *mut c_void;
    pub fn zmq_timers_destroy(timers_p: *mut *mut c_void) -> c_int;
    pub fn zmq_timers_add(
        timers: *mut c_void,
        interval: usize,
        handler: Option<zmq_timer_fn>,
        arg: *mut c_void,
    ) -> c_int;
    pub fn zmq_timers_cancel(timers: *mut c_void, timer_id: c_int) -> c_int;
    pub fn zmq_timers_set_interval(timers: *mut c_void, timer_id: c_int, interval: usize) -> c_int;
    pub fn zmq_timers_reset(timers: *mut c_void, timer_id: c_int) -> c_int;
    pub fn zmq_timers_timeout(timers: *mut c_void) -> c_long;
    pub fn zmq_timers_execute(timers: *mut c_void) -> c_int;

    pub fn zmq_stopwatch_start() -> *mut c_void;
    pub fn zmq_stopwatch_intermediate(watch_: *mut c_void) -> c_ulong;
    pub fn zmq_stopwatch_stop(watch_: *mut c_void) -> c_ulong;
    pub fn zmq_sleep(seconds_: c_int);
    pub fn zmq_threadstart(func_: Option<zmq_thread_fn>, arg_: *mut c_void) -> *mut c_void;
    pub fn zmq_threadclose(thread_: *mut c_void);
}

// The draft API (declared in the header behind `ZMQ_BUILD_DRAFT_API`).
#[cfg(feature = "draft")]
#[allow(unused_doc_comments)]
/// cbindgen:ignore
extern "C" {
    pub fn zmq_ctx_set_ext(
        context_: *mut c_void,
        option_: c_int,
        optval_: *const c_void,
        optvallen_: usize,
    ) -> c_int;
    pub fn zmq_ctx_get_ext(
        context_: *mut c_void,
        option_: c_int,
        optval_: *mut c_void,
        optvallen_: *mut usize,
    ) -> c_int;
    pub fn zmq_join(s: *mut c_void, group: *const c_char) -> c_int;
    pub fn zmq_leave(s: *mut c_void, group: *const c_char) -> c_int;
    pub fn zmq_connect_peer(s_: *mut c_void, addr_: *const c_char) -> u32;
    pub fn zmq_msg_set_routing_id(msg: *mut zmq_msg_t, routing_id: u32) -> c_int;
    pub fn zmq_msg_routing_id(msg: *mut zmq_msg_t) -> u32;
    pub fn zmq_msg_set_group(msg: *mut zmq_msg_t, group: *const c_char) -> c_int;
    pub fn zmq_msg_group(msg: *mut zmq_msg_t) -> *const c_char;
    pub fn zmq_msg_init_buffer(msg_: *mut zmq_msg_t, buf_: *const c_void, size_: usize) -> c_int;
    pub fn zmq_poller_new() -> *mut c_void;
    pub fn zmq_poller_destroy(poller_p: *mut *mut c_void) -> c_int;
    pub fn zmq_poller_size(poller: *mut c_void) -> c_int;
    pub fn zmq_poller_add(
        poller: *mut c_void,
        socket: *mut c_void,
        user_data: *mut c_void,
        events: c_short,
    ) -> c_int;
    pub fn zmq_poller_modify(poller: *mut c_void, socket: *mut c_void, events: c_short) -> c_int;
    pub fn zmq_poller_remove(poller: *mut c_void, socket: *mut c_void) -> c_int;
    pub fn zmq_poller_wait(
        poller: *mut c_void,
        event: *mut zmq_poller_event_t,
        timeout: c_long,
    ) -> c_int;
    pub fn zmq_poller_wait_all(
        poller: *mut c_void,
        events: *mut zmq_poller_event_t,
        n_events: c_int,
        timeout: c_long,
    ) -> c_int;
    pub fn zmq_poller_fd(poller: *mut c_void, fd: *mut zmq_fd_t) -> c_int;
    pub fn zmq_poller_add_fd(
        poller: *mut c_void,
        fd: zmq_fd_t,
        user_data: *mut c_void,
        events: c_short,
    ) -> c_int;
    pub fn zmq_poller_modify_fd(poller: *mut c_void, fd: zmq_fd_t, events: c_short) -> c_int;
    pub fn zmq_poller_remove_fd(poller: *mut c_void, fd: zmq_fd_t) -> c_int;
    pub fn zmq_socket_get_peer_state(
        socket: *mut c_void,
        routing_id: *const c_void,
        routing_id_size: usize,
    ) -> c_int;
    pub fn zmq_socket_monitor_versioned(
        s_: *mut c_void,
        addr_: *const c_char,
        events_: u64,
        event_version_: c_int,
        type_: c_int,
    ) -> c_int;
    pub fn zmq_socket_monitor_pipes_stats(s: *mut c_void) -> c_int;
}
