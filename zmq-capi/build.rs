//! Links libzmq.so with libzmq's SONAME and a version script exporting only
//! `zmq_*`.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    println!("cargo:rerun-if-changed=libzmq.map");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libzmq.so.5");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={dir}/libzmq.map");
}
