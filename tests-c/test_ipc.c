// The ipc transport: filesystem paths, the ipc://* wildcard, abstract
// names, and what happens to the socket file.
//
// Pins:
//  - bind/connect on an explicit path works both ways; ZMQ_LAST_ENDPOINT is
//    the endpoint as given; a socket file (S_ISSOCK) exists while bound;
//  - libzmq 4.3 does NOT remove the socket file of an explicit path on
//    zmq_unbind, on zmq_close or at zmq_ctx_term; binding the path again
//    (same or another socket) still works because bind first unlinks
//    whatever is there: a second socket binding a path that is in use
//    succeeds and takes new connections over;
//  - ipc://* creates a fresh directory "tmpXXXXXX" holding a file "socket":
//    under $TMPDIR when set (LAST_ENDPOINT "ipc://$TMPDIR/tmpXXXXXX/socket",
//    TMPDIR given without a trailing '/'), or, with none of TMPDIR, TEMPDIR,
//    TMP set, relative to the current directory ("ipc://tmpXXXXXX/socket");
//    peers connect through LAST_ENDPOINT; the file and directory are removed
//    when the wildcard endpoint is unbound (asynchronously) or its socket
//    closed (by zmq_ctx_term); unbinding "ipc://*" itself -> ENOENT;
//  - abstract names "ipc://@name": bind/connect work, LAST_ENDPOINT is
//    "ipc://@name", binding the same name again -> EADDRINUSE;
//  - errors: "ipc://" -> EINVAL (bind and connect); a 200-character path ->
//    ENAMETOOLONG (bind and connect); bind in a missing directory ->
//    ENOENT; connect to a path nobody has bound succeeds, and with
//    ZMQ_RECONNECT_IVL 10 messages queued before the bind are delivered
//    after it.
#include "testutil.h"

#include <sys/stat.h>

static int is_socket_file (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0 && S_ISSOCK (st.st_mode);
}

static int exists (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0;
}

/* Waits (bounded) until path is gone. */
static void wait_gone (const char *path)
{
    int64_t deadline = test_now_ms () + 5000;
    while (exists (path)) {
        CHECK (test_now_ms () < deadline);
        test_sleep_ms (5);
    }
}

static void test_explicit_path (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    char path[128], ep[TEST_ENDPOINT_MAX];
    snprintf (path, sizeof path, "%s/explicit.sock", test_ipc_dir ());
    snprintf (ep, sizeof ep, "ipc://%s", path);
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (a && b);
    CHECK (!exists (path));
    CHECK_OK (zmq_bind (a, ep));
    char last[TEST_ENDPOINT_MAX];
    test_last_endpoint (a, last);
    CHECK_STR_EQ (last, ep);
    CHECK (is_socket_file (path));
    CHECK_OK (zmq_connect (b, ep));
    test_bounce (a, b);
    SEND_STR (a, "multi", ZMQ_SNDMORE);
    SEND_STR (a, "part", 0);
    RECV_STR (b, "multi", 1);
    RECV_STR (b, "part", 0);

    //  Unbind leaves the file; binding again works.
    CHECK_OK (zmq_unbind (a, ep));
    CHECK_ERRNO (zmq_unbind (a, ep), ENOENT);
    test_sleep_ms (50);
    CHECK (is_socket_file (path));
    CHECK_OK (zmq_bind (a, ep));

    //  A second socket may bind the same path: it takes over.
    void *c = zmq_socket (ctx, ZMQ_PAIR);
    void *d = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (c && d);
    CHECK_OK (zmq_bind (c, ep));
    CHECK_OK (zmq_connect (d, ep));
    test_bounce (c, d);

    test_close_zero_linger (a);
    test_close_zero_linger (b);
    test_close_zero_linger (c);
    test_close_zero_linger (d);
    CHECK_OK (zmq_ctx_term (ctx));
    //  Still there after everything is closed.
    CHECK (is_socket_file (path));
    CHECK (unlink (path) == 0);
}

//  Binds the ipc wildcard and checks the reported endpoint starts with
//  prefix and ends with "/socket"; returns the socket's file path in path.
static void bind_wildcard (void *s, const char *prefix, char *path)
{
    char last[TEST_ENDPOINT_MAX];
    CHECK_OK (zmq_bind (s, "ipc://*"));
    test_last_endpoint (s, last);
    size_t plen = strlen (prefix);
    if (strncmp (last, prefix, plen) != 0)
        FAIL ("LAST_ENDPOINT %s does not start with %s", last, prefix);
    //  prefix + "tmpXXXXXX/socket"
    CHECK_INT_EQ (strlen (last), plen + 16);
    CHECK (strncmp (last + plen, "tmp", 3) == 0);
    CHECK_STR_EQ (last + plen + 9, "/socket");
    strcpy (path, last + 6);
    CHECK (is_socket_file (path));
}

static void test_wildcard (void)
{
    const char *dir = test_ipc_dir ();
    char prefix[128], path[TEST_ENDPOINT_MAX], sockdir[TEST_ENDPOINT_MAX];
    char ep[TEST_ENDPOINT_MAX + 8];
    unsetenv ("TEMPDIR");
    unsetenv ("TMP");
    setenv ("TMPDIR", dir, 1);
    snprintf (prefix, sizeof prefix, "ipc://%s/", dir);

    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (a && b);
    bind_wildcard (a, prefix, path);
    snprintf (ep, sizeof ep, "ipc://%s", path);
    CHECK_OK (zmq_connect (b, ep));
    test_bounce (a, b);
    CHECK_ERRNO (zmq_unbind (a, "ipc://*"), ENOENT);

    //  Unbind removes the file and its directory.
    strcpy (sockdir, path);
    *strrchr (sockdir, '/') = '\0';
    CHECK_OK (zmq_unbind (a, ep));
    wait_gone (path);
    wait_gone (sockdir);

    //  So does closing the socket (by the time zmq_ctx_term returns).
    bind_wildcard (a, prefix, path);
    strcpy (sockdir, path);
    *strrchr (sockdir, '/') = '\0';
    test_close_zero_linger (a);
    test_close_zero_linger (b);
    CHECK_OK (zmq_ctx_term (ctx));
    CHECK (!exists (path));
    CHECK (!exists (sockdir));

    //  No temp-dir variable: relative to the current directory.
    unsetenv ("TMPDIR");
    char cwd[512];
    CHECK (getcwd (cwd, sizeof cwd) != NULL);
    CHECK (chdir (dir) == 0);
    ctx = zmq_ctx_new ();
    CHECK (ctx);
    a = zmq_socket (ctx, ZMQ_PAIR);
    b = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (a && b);
    bind_wildcard (a, "ipc://", path);
    char full[2 * TEST_ENDPOINT_MAX];
    snprintf (full, sizeof full, "ipc://%s/%s", dir, path);
    CHECK_OK (zmq_connect (b, full));
    test_bounce (a, b);
    test_close_zero_linger (a);
    test_close_zero_linger (b);
    CHECK_OK (zmq_ctx_term (ctx));
    CHECK (!exists (path));
    CHECK (chdir (cwd) == 0);
}

static void test_abstract (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    char ep[TEST_ENDPOINT_MAX];
    snprintf (ep, sizeof ep, "ipc://@zmq-test-abstract-%d", (int) getpid ());
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    void *c = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (a && b && c);
    CHECK_OK (zmq_bind (a, ep));
    char last[TEST_ENDPOINT_MAX];
    test_last_endpoint (a, last);
    CHECK_STR_EQ (last, ep);
    CHECK_ERRNO (zmq_bind (c, ep), EADDRINUSE);
    CHECK_OK (zmq_connect (b, ep));
    test_bounce (a, b);
    test_close_zero_linger (a);
    test_close_zero_linger (b);
    test_close_zero_linger (c);
    CHECK_OK (zmq_ctx_term (ctx));
}

static void test_errors (void)
{
    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (s);
    CHECK_ERRNO (zmq_bind (s, "ipc://"), EINVAL);
    CHECK_ERRNO (zmq_connect (s, "ipc://"), EINVAL);
    char ep[300];
    int n = snprintf (ep, sizeof ep, "ipc://%s/", test_ipc_dir ());
    memset (ep + n, 'x', 206 - n);
    ep[206] = '\0';
    CHECK_ERRNO (zmq_bind (s, ep), ENAMETOOLONG);
    CHECK_ERRNO (zmq_connect (s, ep), ENAMETOOLONG);
    snprintf (ep, sizeof ep, "ipc://%s/missing-dir/sock", test_ipc_dir ());
    CHECK_ERRNO (zmq_bind (s, ep), ENOENT);
    test_close_zero_linger (s);

    //  Connect first, bind later.
    void *client = zmq_socket (ctx, ZMQ_PAIR);
    void *server = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (client && server);
    test_set_int (client, ZMQ_RECONNECT_IVL, 10);
    snprintf (ep, sizeof ep, "ipc://%s/late.sock", test_ipc_dir ());
    CHECK_OK (zmq_connect (client, ep));
    SEND_STR (client, "early", 0);
    CHECK_OK (zmq_bind (server, ep));
    RECV_STR (server, "early", 0);
    test_bounce (server, client);
    test_close_zero_linger (client);
    test_close_zero_linger (server);
    CHECK_OK (zmq_ctx_term (ctx));
}

int main (void)
{
    test_init ();
    test_explicit_path ();
    test_wildcard ();
    test_abstract ();
    test_errors ();
    TEST_PASS ();
}
