//! The allocator options `cutover` runs with (`src/main.rs`), so a bench's processes keep
//! memory as the shipped binary does. The bench wraps `cutover::heap::Allocator` in its own
//! counting allocator.

/// jemalloc's options (see `cutover::heap::MALLOC_CONF`), read once when it starts.
#[cfg(unix)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static MALLOC_CONF: Option<&'static u8> =
    Some(&cutover::heap::MALLOC_CONF.to_bytes_with_nul()[0]);
