//! Checks zmq-capi's declarations against Debian's /usr/include/zmq.h (the
//! stable API; Debian's library does not export the draft one) and links
//! Debian's libzmq, so function addresses are compared against it.
include!("../abi-ctest-common.rs");

fn main() {
    generate(None, false, "ctest.rs");
    println!("cargo:rustc-link-lib=dylib=zmq");
}
