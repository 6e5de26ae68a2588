use std::process::ExitCode;

#[global_allocator]
static GLOBAL: cutover::heap::Allocator = cutover::heap::Allocator {};

/// jemalloc's options (see `cutover::heap::MALLOC_CONF`), read once when it starts.
#[cfg(unix)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static MALLOC_CONF: Option<&'static u8> =
    Some(&cutover::heap::MALLOC_CONF.to_bytes_with_nul()[0]);

fn main() -> ExitCode {
    cutover::cli::main()
}
