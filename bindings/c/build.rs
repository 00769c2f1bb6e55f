//! Gives the shared library a SONAME on ELF targets, so that programs linked against
//! `libpennon.so` record `libpennon.so.<abi>` and an installed library can be upgraded
//! side by side (see `install.sh`). Before 1.0 every minor version may break the ABI, so
//! the ABI name is `0.<minor>`; from 1.0 on it is the major version.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(os.as_str(), "linux" | "android" | "freebsd" | "netbsd" | "openbsd" | "dragonfly") {
        let major = env!("CARGO_PKG_VERSION_MAJOR");
        let minor = env!("CARGO_PKG_VERSION_MINOR");
        let abi = if major == "0" { format!("0.{minor}") } else { major.to_owned() };
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libpennon.so.{abi}");
    }
}
