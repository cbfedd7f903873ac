//! Checks zmq-capi's declarations, draft API included, against our generated
//! include/zmq.h, linking our build/lib/libzmq.so (run `make` first).
include!("../abi-ctest-common.rs");

fn main() {
    let top = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    generate(Some(&format!("{top}/include")), true, "ctest.rs");
    println!("cargo:rerun-if-changed={top}/include/zmq.h");
    println!("cargo:rustc-link-search=native={top}/build/lib");
    println!("cargo:rustc-link-lib=dylib=zmq");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{top}/build/lib");
}
