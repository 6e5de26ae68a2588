//! The memory allocator every cutover process runs on, and how it hands memory back.
//!
//! cutover's processes allocate in bursts and then hold still: the console decodes a whole
//! cluster's Deployments, Services and Ingresses on its first listing and then only the
//! namespaces that change; the demo server seeds a fleet and then its controllers settle.
//! glibc's malloc kept much of what a burst freed, scattered between live objects where
//! `malloc_trim` could not reach it, even with one arena and a trim after every burst
//! (console at 10,000 releases: 105 MB resident for 75 MB of heap; demo server at 1,000
//! releases: 140 or 170 MiB for 96 MiB, from run to run). jemalloc keeps small objects of one
//! size together in slabs and, as configured here, returns each page the moment it falls
//! free, so what stays resident follows what is live (92 MB and 125 MiB, steadily).
//!
//! The binaries (`src/main.rs`, and the benches that measure them) declare
//! `#[global_allocator] static GLOBAL: cutover::heap::Allocator` and export [`MALLOC_CONF`]
//! as `_rjem_malloc_conf`, which jemalloc reads once when it starts (jemalloc's
//! `malloc_conf`, `TUNING.md` and the `opt.*` entries of its manual). Library and
//! integration test binaries keep the system allocator.

/// The allocator of cutover's binaries: jemalloc where tikv-jemallocator builds it (every
/// Unix), else the system's.
#[cfg(unix)]
pub type Allocator = tikv_jemallocator::Jemalloc;
/// The allocator of cutover's binaries: jemalloc where tikv-jemallocator builds it (every
/// Unix), else the system's.
#[cfg(not(unix))]
pub type Allocator = std::alloc::System;

/// jemalloc's options for a cutover process, a C string in `malloc_conf` syntax:
///
/// - `narenas:1`: one arena. A process has two runtime workers and allocates little once it
///   has loaded, so threads do not contend, while several arenas each kept part of a burst.
/// - `dirty_decay_ms:0,muzzy_decay_ms:0`: a page that falls free goes back to the system at
///   once (`MADV_DONTNEED`), not a few seconds later, nor lazily (`MADV_FREE` pages still
///   count as resident until the kernel needs them). Measured against the default decay
///   (10 s) and against 0.1–1 s with purges where a burst ended: only 0 kept the console at
///   5,000 releases under 60 MB (57 MB; 62–65 MB otherwise), for a first frame at 10,000
///   releases of 0.7 s instead of 0.46 s (glibc: 0.97 s). Each freed page now costs a
///   system call and a fault when used again, so a change must not free and remake large
///   buffers (the release list is edited in place, `console/app/rows.rs`): CPU per change at
///   10,000 releases is 2.1 ms (glibc: 3.1 ms). With nothing left to decay, no background
///   thread is needed.
///
/// `tests/ecosystem.rs` checks that the built `cutover` runs with exactly these.
pub const MALLOC_CONF: &std::ffi::CStr = c"narenas:1,dirty_decay_ms:0,muzzy_decay_ms:0";
