//! What the machine is doing while a benchmark runs, printed beside its figures.

/// The 1, 5 and 15 minute load averages (`/proc/loadavg`), or `?` where there is none.
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}
