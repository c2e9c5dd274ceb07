//! Split points: functions whose code the release build moves out of the
//! main wasm into chunks fetched the first time they are called.
//!
//! [`chunk!`](crate::chunk) declares one. The release build (`cargo xtask
//! dist`, with `--cfg wasm_split`) cuts each into a separate `.wasm`, with
//! all the code only it reaches (xtask/src/split.rs does the cutting);
//! without that cfg (`cargo xtask dev`, the native and wasm tests) it is an
//! ordinary `async fn` and its code is in the one wasm.
//!
//! A split point hands back a plain function pointer into its chunk (a view
//! builder, the sign-in code), which the caller keeps and calls like any
//! function: what it returns need not cross the chunk's boundary by value.
//! A chunk that cannot be fetched (the network is down, a deploy replaced
//! the files) is an `Err`, never a panic: the `fallible` option of
//! `wasm_split` turns the failed load into [`ChunkError`], and a retry loads
//! from scratch (a failed load is not remembered).
//!
//! It sits with [`crate::load`] below every other module, importing only
//! `leptos`, so that start-up ([`crate::auth`]) can leave code to chunks too.

/// A chunk's code could not be loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkError;

impl From<leptos::wasm_split::SplitLoaderError> for ChunkError {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        ChunkError
    }
}

/// Declares a split point. `chunk! { fn name() -> T { body } }`, where the
/// body evaluates to `Result<T, ChunkError>` and `name` names the chunk,
/// becomes an `async fn name() -> Result<T, ChunkError>`; with `--cfg
/// wasm_split` a `wasm_split` split point, whose code (and all code only it
/// reaches) the release build moves into the chunk. `T` is a function
/// pointer into the chunk. Without `-> T`, `T` is the view builder of
/// [`ChunkView`](crate::components::chunk::ChunkView).
#[macro_export]
macro_rules! chunk {
    ($(#[$meta:meta])* $vis:vis fn $name:ident() $body:block) => {
        $crate::chunk! {
            $(#[$meta])*
            $vis fn $name() -> fn() -> ::leptos::prelude::AnyView $body
        }
    };
    ($(#[$meta:meta])* $vis:vis fn $name:ident() -> $ty:ty $body:block) => {
        $(#[$meta])*
        #[cfg(wasm_split)]
        #[::leptos::wasm_split::wasm_split($name, wasm_split_path = ::leptos::wasm_split, fallible)]
        $vis fn $name() -> ::core::result::Result<$ty, $crate::split::ChunkError> $body

        $(#[$meta])*
        #[cfg(not(wasm_split))]
        $vis async fn $name() -> ::core::result::Result<$ty, $crate::split::ChunkError> $body
    };
}
