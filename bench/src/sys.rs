//! What the benchmark reads from the machine: memory of this process, directory sizes, the CPU.

use std::path::Path;

/// A `kB` field of /proc/self/status (`VmHWM`, `VmRSS`), in KiB; 0 where there is no /proc.
pub(crate) fn status_kib(field: &str) -> u64 {
    status_kib_of("/proc/self/status", field)
}

/// The same from another process's status file (`/proc/PID/status`).
pub(crate) fn status_kib_of(path: &str, field: &str) -> u64 {
    let Ok(text) = std::fs::read_to_string(path) else {
        return 0;
    };
    text.lines()
        .find_map(|l| {
            let rest = l.strip_prefix(field)?.strip_prefix(':')?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or(0)
}

/// Bytes on disk of all files under `dir` (the blocks allocated; recursively, symlinks not
/// followed).
pub(crate) fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            // the blocks allocated, not the length: fjall's journal is a sparse file of 64 MiB
            Ok(t) if t.is_file() => e
                .metadata()
                .map(|m| std::os::unix::fs::MetadataExt::blocks(&m) * 512)
                .unwrap_or(0),
            _ => 0,
        })
        .sum()
}

/// The CPU model from /proc/cpuinfo, or `unknown`.
pub(crate) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The cores this process may use.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}
