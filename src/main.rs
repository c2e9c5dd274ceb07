//! Mounts the app; everything else lives in the library.

fn main() {
    permission_spa::mount();
}
