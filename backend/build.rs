//! Rebuilds a release binary when the console in `frontend/dist` changes, so the embedded copy
//! is never stale. Debug builds read the console from disk and need no rebuild.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    if release {
        let dist = std::path::Path::new("../frontend/dist");
        // A missing path would rerun this script on every build; watch the parent instead.
        let watched = if dist.exists() {
            "../frontend/dist"
        } else {
            "../frontend"
        };
        println!("cargo:rerun-if-changed={watched}");
    }
}
