/* Socket option dump, compared between Debian's libzmq and ours by
 * tests-c/options-dump.sh (deliberately not named test_*.c: tests-c/run.sh
 * does not build it; its output, not its exit status, is what matters).
 *
 * For every socket type 0..11 (PAIR..STREAM) and every option number -1,
 * 0..130 and 1000 it prints, on fresh sockets that are never bound or
 * connected:
 *
 *   get TYPE OPT NAME = VALUE
 *       the default value, read the first way that works: an int (optvallen
 *       4), an int64 (8), a string/binary (512-byte buffer), a Z85 curve key
 *       (41) or a binary curve key (32); VALUE names which way worked, or is
 *       "errno ENAME" when none did.  ZMQ_FD prints "fd" instead of the
 *       descriptor (it differs run to run).
 *   size TYPE OPT NAME : N:R ...
 *       zmq_getsockopt with optvallen N for N in 0,1,2,4,8,32,41,255,256,512:
 *       R is the returned optvallen, or the errno name.
 *   set TYPE OPT NAME VALUE -> ok | errno ENAME [; now READBACK]
 *       zmq_setsockopt with ints -2,-1,0,1,1000 (4 bytes), the same as int64
 *       (8 bytes), NULL/0, empty, 1, 10, 32 (binary), 40 and 41 (Z85 key,
 *       without and with its NUL), 255, 256 and 300 bytes; after a
 *       successful set the option is read back as for "get".  Each
 *       (type, option) pair gets its own fresh socket.
 *
 * The output is deterministic on libzmq (run twice, identical).  Exits 0
 * unless a socket cannot be created. */
#include "testutil.h"

#include <stdint.h>

static const char *const type_names[12] = {
  "PAIR", "PUB",  "SUB",  "REQ",  "REP",  "DEALER",
  "ROUTER", "PULL", "PUSH", "XPUB", "XSUB", "STREAM"};

/* Option names by number (libzmq 4.3 zmq.h, drafts and older names
 * included); numbers are literal so this builds against any header. */
static const char *option_name (int opt)
{
    switch (opt) {
        case 3: return "ZMQ_HWM(old)";
        case 4: return "ZMQ_AFFINITY";
        case 5: return "ZMQ_ROUTING_ID";
        case 6: return "ZMQ_SUBSCRIBE";
        case 7: return "ZMQ_UNSUBSCRIBE";
        case 8: return "ZMQ_RATE";
        case 9: return "ZMQ_RECOVERY_IVL";
        case 10: return "ZMQ_MCAST_LOOP(old)";
        case 11: return "ZMQ_SNDBUF";
        case 12: return "ZMQ_RCVBUF";
        case 13: return "ZMQ_RCVMORE";
        case 14: return "ZMQ_FD";
        case 15: return "ZMQ_EVENTS";
        case 16: return "ZMQ_TYPE";
        case 17: return "ZMQ_LINGER";
        case 18: return "ZMQ_RECONNECT_IVL";
        case 19: return "ZMQ_BACKLOG";
        case 20: return "ZMQ_RECOVERY_IVL_MSEC(old)";
        case 21: return "ZMQ_RECONNECT_IVL_MAX";
        case 22: return "ZMQ_MAXMSGSIZE";
        case 23: return "ZMQ_SNDHWM";
        case 24: return "ZMQ_RCVHWM";
        case 25: return "ZMQ_MULTICAST_HOPS";
        case 27: return "ZMQ_RCVTIMEO";
        case 28: return "ZMQ_SNDTIMEO";
        case 31: return "ZMQ_IPV4ONLY";
        case 32: return "ZMQ_LAST_ENDPOINT";
        case 33: return "ZMQ_ROUTER_MANDATORY";
        case 34: return "ZMQ_TCP_KEEPALIVE";
        case 35: return "ZMQ_TCP_KEEPALIVE_CNT";
        case 36: return "ZMQ_TCP_KEEPALIVE_IDLE";
        case 37: return "ZMQ_TCP_KEEPALIVE_INTVL";
        case 38: return "ZMQ_TCP_ACCEPT_FILTER";
        case 39: return "ZMQ_IMMEDIATE";
        case 40: return "ZMQ_XPUB_VERBOSE";
        case 41: return "ZMQ_ROUTER_RAW";
        case 42: return "ZMQ_IPV6";
        case 43: return "ZMQ_MECHANISM";
        case 44: return "ZMQ_PLAIN_SERVER";
        case 45: return "ZMQ_PLAIN_USERNAME";
        case 46: return "ZMQ_PLAIN_PASSWORD";
        case 47: return "ZMQ_CURVE_SERVER";
        case 48: return "ZMQ_CURVE_PUBLICKEY";
        case 49: return "ZMQ_CURVE_SECRETKEY";
        case 50: return "ZMQ_CURVE_SERVERKEY";
        case 51: return "ZMQ_PROBE_ROUTER";
        case 52: return "ZMQ_REQ_CORRELATE";
        case 53: return "ZMQ_REQ_RELAXED";
        case 54: return "ZMQ_CONFLATE";
        case 55: return "ZMQ_ZAP_DOMAIN";
        case 56: return "ZMQ_ROUTER_HANDOVER";
        case 57: return "ZMQ_TOS";
        case 58: return "ZMQ_IPC_FILTER_PID";
        case 59: return "ZMQ_IPC_FILTER_UID";
        case 60: return "ZMQ_IPC_FILTER_GID";
        case 61: return "ZMQ_CONNECT_ROUTING_ID";
        case 62: return "ZMQ_GSSAPI_SERVER";
        case 63: return "ZMQ_GSSAPI_PRINCIPAL";
        case 64: return "ZMQ_GSSAPI_SERVICE_PRINCIPAL";
        case 65: return "ZMQ_GSSAPI_PLAINTEXT";
        case 66: return "ZMQ_HANDSHAKE_IVL";
        case 68: return "ZMQ_SOCKS_PROXY";
        case 69: return "ZMQ_XPUB_NODROP";
        case 70: return "ZMQ_BLOCKY";
        case 71: return "ZMQ_XPUB_MANUAL";
        case 72: return "ZMQ_XPUB_WELCOME_MSG";
        case 73: return "ZMQ_STREAM_NOTIFY";
        case 74: return "ZMQ_INVERT_MATCHING";
        case 75: return "ZMQ_HEARTBEAT_IVL";
        case 76: return "ZMQ_HEARTBEAT_TTL";
        case 77: return "ZMQ_HEARTBEAT_TIMEOUT";
        case 78: return "ZMQ_XPUB_VERBOSER";
        case 79: return "ZMQ_CONNECT_TIMEOUT";
        case 80: return "ZMQ_TCP_MAXRT";
        case 81: return "ZMQ_THREAD_SAFE";
        case 84: return "ZMQ_MULTICAST_MAXTPDU";
        case 85: return "ZMQ_VMCI_BUFFER_SIZE";
        case 86: return "ZMQ_VMCI_BUFFER_MIN_SIZE";
        case 87: return "ZMQ_VMCI_BUFFER_MAX_SIZE";
        case 88: return "ZMQ_VMCI_CONNECT_TIMEOUT";
        case 89: return "ZMQ_USE_FD";
        case 90: return "ZMQ_GSSAPI_PRINCIPAL_NAMETYPE";
        case 91: return "ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE";
        case 92: return "ZMQ_BINDTODEVICE";
        case 93: return "ZMQ_ZAP_ENFORCE_DOMAIN(draft)";
        case 94: return "ZMQ_LOOPBACK_FASTPATH(draft)";
        case 95: return "ZMQ_METADATA(draft)";
        case 96: return "ZMQ_MULTICAST_LOOP(draft)";
        case 97: return "ZMQ_ROUTER_NOTIFY(draft)";
        case 98: return "ZMQ_XPUB_MANUAL_LAST_VALUE(draft)";
        case 99: return "ZMQ_SOCKS_USERNAME(draft)";
        case 100: return "ZMQ_SOCKS_PASSWORD(draft)";
        case 101: return "ZMQ_IN_BATCH_SIZE(draft)";
        case 102: return "ZMQ_OUT_BATCH_SIZE(draft)";
        case 103: return "ZMQ_WSS_KEY_PEM(draft)";
        case 104: return "ZMQ_WSS_CERT_PEM(draft)";
        case 105: return "ZMQ_WSS_TRUST_PEM(draft)";
        case 106: return "ZMQ_WSS_HOSTNAME(draft)";
        case 107: return "ZMQ_WSS_TRUST_SYSTEM(draft)";
        case 108: return "ZMQ_ONLY_FIRST_SUBSCRIBE(draft)";
        case 109: return "ZMQ_RECONNECT_STOP(draft)";
        case 110: return "ZMQ_HELLO_MSG(draft)";
        case 111: return "ZMQ_DISCONNECT_MSG(draft)";
        case 112: return "ZMQ_PRIORITY(draft)";
        case 113: return "ZMQ_BUSY_POLL(draft)";
        case 114: return "ZMQ_HICCUP_MSG(draft)";
        case 115: return "ZMQ_XSUB_VERBOSE_UNSUBSCRIBE(draft)";
        case 116: return "ZMQ_TOPICS_COUNT(draft)";
        case 117: return "ZMQ_NORM_MODE(draft)";
        case 118: return "ZMQ_NORM_UNICAST_NACK(draft)";
        case 119: return "ZMQ_NORM_BUFFER_SIZE(draft)";
        case 120: return "ZMQ_NORM_SEGMENT_SIZE(draft)";
        case 121: return "ZMQ_NORM_BLOCK_SIZE(draft)";
        case 122: return "ZMQ_NORM_NUM_PARITY(draft)";
        case 123: return "ZMQ_NORM_NUM_AUTOPARITY(draft)";
        case 124: return "ZMQ_NORM_PUSH(draft)";
        default: return "-";
    }
}

static const char *errno_name (int e)
{
    switch (e) {
        case EINVAL: return "EINVAL";
        case EFAULT: return "EFAULT";
        case ENOMEM: return "ENOMEM";
        case EAGAIN: return "EAGAIN";
        case ENOTSUP: return "ENOTSUP";
        case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
        case ENOTSOCK: return "ENOTSOCK";
        case ETERM: return "ETERM";
        case EFSM: return "EFSM";
        case EMTHREAD: return "EMTHREAD";
        case ENOCOMPATPROTO: return "ENOCOMPATPROTO";
        case EBADF: return "EBADF";
        case ENODEV: return "ENODEV";
        case EACCES: return "EACCES";
        case EMFILE: return "EMFILE";
        default: {
            static char buf[32];
            snprintf (buf, sizeof buf, "errno%d", e);
            return buf;
        }
    }
}

static uint32_t fnv1a (const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

/* Appends a description of n bytes (quoted text when printable, else hex;
 * long values abbreviated with a hash of the whole) to out. */
static void describe_bytes (char *out, size_t outsz, const unsigned char *p,
                            size_t n)
{
    //  Text, possibly with a terminating NUL (shown as +NUL).
    const int nul = n > 0 && p[n - 1] == 0;
    const size_t text = nul ? n - 1 : n;
    int printable = 1;
    for (size_t i = 0; i < text; i++)
        if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '"' || p[i] == '\\')
            printable = 0;
    size_t used = strlen (out);
    if (printable && text <= 64) {
        snprintf (out + used, outsz - used, "len %zu \"%.*s\"%s", n,
                  (int) text, (const char *) p, nul ? "+NUL" : "");
    } else if (printable) {
        snprintf (out + used, outsz - used, "len %zu \"%.32s\"...%s fnv %08x",
                  n, (const char *) p, nul ? "+NUL" : "", fnv1a (p, n));
    } else {
        snprintf (out + used, outsz - used, "len %zu hex ", n);
        used = strlen (out);
        size_t shown = n <= 48 ? n : 24;
        for (size_t i = 0; i < shown && used + 3 < outsz; i++) {
            snprintf (out + used, outsz - used, "%02x", p[i]);
            used += 2;
        }
        if (shown < n)
            snprintf (out + used, outsz - used, "... fnv %08x", fnv1a (p, n));
    }
}

/* Reads opt the first way that works and describes it into out. */
static void describe_get (void *s, int opt, char *out, size_t outsz)
{
    out[0] = '\0';
    unsigned char buf[512];

    //  An int.
    memset (buf, 0xa5, sizeof buf);
    size_t len = 4;
    errno = 0;
    int rc = zmq_getsockopt (s, opt, buf, &len);
    if (rc == 0 && len == 4) {
        int v;
        memcpy (&v, buf, sizeof v);
        if (opt == 14)
            snprintf (out, outsz, "int fd");
        else
            snprintf (out, outsz, "int %d", v);
        return;
    }
    if (rc == 0) {
        //  Accepted with a 4-byte buffer but returned another length: text or
        //  binary; read it again with a large buffer below.
        snprintf (out, outsz, "[4->len %zu] ", len);
    } else {
        if (errno != EINVAL) {
            snprintf (out, outsz, "errno %s", errno_name (errno));
            return;
        }
        //  An int64.
        memset (buf, 0xa5, sizeof buf);
        len = 8;
        errno = 0;
        rc = zmq_getsockopt (s, opt, buf, &len);
        if (rc == 0 && len == 8) {
            int64_t v;
            memcpy (&v, buf, sizeof v);
            snprintf (out, outsz, "int64 %lld", (long long) v);
            return;
        }
        if (rc == 0)
            snprintf (out, outsz, "[8->len %zu] ", len);
        else if (errno != EINVAL) {
            snprintf (out, outsz, "errno %s", errno_name (errno));
            return;
        }
    }

    //  Text or binary, then the two curve key forms.
    const size_t sizes[] = {512, 41, 32};
    const char *labels[] = {"str", "z85", "bin32"};
    for (int i = 0; i < 3; i++) {
        memset (buf, 0xa5, sizeof buf);
        len = sizes[i];
        errno = 0;
        rc = zmq_getsockopt (s, opt, buf, &len);
        if (rc == 0) {
            size_t used = strlen (out);
            snprintf (out + used, outsz - used, "%s ", labels[i]);
            describe_bytes (out, outsz, buf, len <= sizes[i] ? len : sizes[i]);
            return;
        }
        if (errno != EINVAL)
            break;
    }
    size_t used = strlen (out);
    snprintf (out + used, outsz - used, "errno %s", errno_name (errno));
}

static void dump_get (void *s, int type, int opt)
{
    char desc[1024];
    describe_get (s, opt, desc, sizeof desc);
    printf ("get %s %d %s = %s\n", type_names[type], opt, option_name (opt),
            desc);

    static const size_t sizes[] = {0, 1, 2, 4, 8, 32, 41, 255, 256, 512};
    printf ("size %s %d %s :", type_names[type], opt, option_name (opt));
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char buf[512];
        memset (buf, 0xa5, sizeof buf);
        size_t len = sizes[i];
        errno = 0;
        int rc = zmq_getsockopt (s, opt, buf, &len);
        if (rc == 0)
            printf (" %zu:%zu", sizes[i], len);
        else
            printf (" %zu:%s", sizes[i], errno_name (errno));
    }
    printf ("\n");
}

/* A valid Z85 curve key (40 characters). */
static const char z85_key[] = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

static void set_probe (void *s, int type, int opt, const char *what,
                       const void *val, size_t len)
{
    errno = 0;
    int rc = zmq_setsockopt (s, opt, val, len);
    printf ("set %s %d %s %s -> ", type_names[type], opt, option_name (opt),
            what);
    if (rc == 0) {
        char desc[1024];
        describe_get (s, opt, desc, sizeof desc);
        printf ("ok; now %s\n", desc);
    } else
        printf ("rc %d errno %s\n", rc, errno_name (errno));
}

static void dump_sets (void *ctx, int type, int opt)
{
    void *s = zmq_socket (ctx, type);
    CHECK (s != NULL);

    static const int ints[] = {-2, -1, 0, 1, 1000};
    for (int i = 0; i < 5; i++) {
        char what[64];
        int v = ints[i];
        snprintf (what, sizeof what, "int %d", v);
        set_probe (s, type, opt, what, &v, sizeof v);
    }
    for (int i = 0; i < 5; i++) {
        char what[64];
        int64_t v = ints[i];
        snprintf (what, sizeof what, "int64 %d", ints[i]);
        set_probe (s, type, opt, what, &v, sizeof v);
    }

    unsigned char big[300];
    for (int i = 0; i < 300; i++)
        big[i] = (unsigned char) ('a' + i % 26);
    unsigned char bin[32];
    for (int i = 0; i < 32; i++)
        bin[i] = (unsigned char) (i * 7 + 1);

    set_probe (s, type, opt, "NULL/0", NULL, 0);
    set_probe (s, type, opt, "str0", "", 0);
    set_probe (s, type, opt, "str1", "x", 1);
    set_probe (s, type, opt, "str10", "abcdefghij", 10);
    set_probe (s, type, opt, "bin32", bin, 32);
    set_probe (s, type, opt, "z85/40", z85_key, 40);
    set_probe (s, type, opt, "z85/41", z85_key, 41);
    set_probe (s, type, opt, "str255", big, 255);
    set_probe (s, type, opt, "str256", big, 256);
    set_probe (s, type, opt, "str300", big, 300);

    CHECK_OK (zmq_setsockopt (s, ZMQ_LINGER, &(int){0}, sizeof (int)));
    CHECK_OK (zmq_close (s));
}

int main (void)
{
    test_init ();
    //  The output is large; full buffering (test_init made stdout
    //  unbuffered for the usual short PASS lines).
    static char outbuf[1 << 16];
    setvbuf (stdout, outbuf, _IOFBF, sizeof outbuf);

    int opts[140];
    int nopts = 0;
    opts[nopts++] = -1;
    for (int o = 0; o <= 130; o++)
        opts[nopts++] = o;
    opts[nopts++] = 1000;

    for (int type = 0; type < 12; type++) {
        //  A context per type keeps the number of sockets awaiting the
        //  reaper far below ZMQ_MAX_SOCKETS.
        void *ctx = zmq_ctx_new ();
        CHECK (ctx != NULL);
        void *s = zmq_socket (ctx, type);
        CHECK (s != NULL);
        for (int i = 0; i < nopts; i++)
            dump_get (s, type, opts[i]);
        CHECK_OK (zmq_close (s));
        for (int i = 0; i < nopts; i++)
            dump_sets (ctx, type, opts[i]);
        CHECK_OK (zmq_ctx_term (ctx));
    }
    fflush (stdout);
    return 0;
}
