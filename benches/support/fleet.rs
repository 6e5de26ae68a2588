//! The benchmarks' fleet is the library's (`cutover::embedded::fleet`), which
//! `cutover demo --fleet N` serves too.

pub use cutover::embedded::fleet::*;
