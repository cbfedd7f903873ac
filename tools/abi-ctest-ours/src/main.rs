//! Runs the ctest-generated checks (see build.rs).
#![allow(bad_style, unused, clippy::all)]

#[path = "../../../zmq-capi/src/abi.rs"]
mod abi;
use abi::*;

include!(concat!(env!("OUT_DIR"), "/ctest.rs"));
