//! libzmq's C API over zmq-core: this crate builds `libzmq.so.5`.
//!
//! Glue only: handle checks, argument checks, translation between C values
//! and zmq-core types, and the panic boundary. `abi` declares the ABI once;
//! every other module defines exports.
#![allow(non_camel_case_types)]

pub mod abi;
mod boundary;
mod ctx;
#[cfg(feature = "draft")]
mod draft;
mod handle;
mod msg;
mod poll;
mod proxy;
mod socket;
mod util;
