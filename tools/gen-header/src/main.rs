//! Generates `include/zmq.h` from zmq-capi's Rust declarations.
//!
//! `gen-header` writes the header; `gen-header --check` regenerates it in
//! memory and fails if the checked-in file differs (run by `make test`).
//! cbindgen is pinned in the workspace manifest so that output is stable.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let crate_dir = root.join("zmq-capi");
    let header = root.join("include/zmq.h");
    let check = std::env::args().any(|a| a == "--check");

    let config = match cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gen-header: bad cbindgen.toml: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bindings = match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(b) => b,
        Err(e) => {
            eprintln!("gen-header: cbindgen failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut generated = Vec::new();
    bindings.write(&mut generated);

    if check {
        return compare(&header, &generated);
    }
    if let Err(e) = std::fs::write(&header, &generated) {
        eprintln!("gen-header: cannot write {}: {e}", header.display());
        return ExitCode::FAILURE;
    }
    println!("wrote {}", header.display());
    ExitCode::SUCCESS
}

fn compare(header: &Path, generated: &[u8]) -> ExitCode {
    match std::fs::read(header) {
        Ok(current) if current == generated => {
            println!("{} is up to date", header.display());
            ExitCode::SUCCESS
        }
        Ok(_) => {
            eprintln!(
                "{} differs from what the Rust declarations generate; run `make header`",
                header.display()
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("gen-header: cannot read {}: {e}", header.display());
            ExitCode::FAILURE
        }
    }
}
