//! Compiles `proto/cairn/audit/v1/chain.proto` with protox (no system
//! `protoc`): prost structs plus pbjson serde impls (the proto3 JSON mapping).

use std::{env, path::PathBuf};

use prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let file = root.join("cairn/audit/v1/chain.proto");
    println!("cargo:rerun-if-changed={}", file.display());
    let fds = protox::compile([&file], [&root])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    let bytes = fds.encode_to_vec();
    prost_build::Config::new().out_dir(&out).compile_fds(fds)?;
    pbjson_build::Builder::new()
        .out_dir(&out)
        .register_descriptors(&bytes)?
        .build(&[".cairn.audit.v1"])?;
    Ok(())
}
