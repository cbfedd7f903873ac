// Shared by the build scripts of tools/abi-ctest-{upstream,ours}: configures
// ctest to check zmq-capi/src/abi.rs against a zmq.h.

fn generate(include_dir: Option<&str>, draft: bool, out: &str) {
    let abi = concat!(env!("CARGO_MANIFEST_DIR"), "/../../zmq-capi/src/abi.rs");
    println!("cargo:rerun-if-changed={abi}");
    let mut cfg = ctest::TestGenerator::new();
    cfg.header("sys/uio.h").header("zmq.h");
    if let Some(dir) = include_dir {
        cfg.include(dir);
    }
    if draft {
        cfg.cfg("feature", Some("draft"));
        cfg.define("ZMQ_BUILD_DRAFT_API", None);
    }
    // C function types (zmq_free_fn & co) have no size; their use is checked
    // through the prototypes. `struct iovec` is the system's.
    cfg.skip_alias(|t| matches!(t.ident(), "zmq_free_fn" | "zmq_timer_fn" | "zmq_thread_fn"));
    cfg.skip_struct(|s| s.ident() == "iovec");
    // Rust cannot name a field `_`.
    cfg.rename_struct_field(|s, f| {
        (s.ident() == "zmq_msg_t" && f.ident() == "__").then(|| "_".to_string())
    });
    ctest::generate_test(&mut cfg, abi, out).expect("ctest generation");
}
