//! Process figures from `/proc` (Linux): peak and current resident memory, CPU time.

/// A `kB` field of `/proc/<pid>/status` (e.g. `VmHWM`, `VmRSS`), in kB.
pub fn status_kb(pid: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_kb(&text, field)
}

/// Starts this process's peak resident memory (`VmHWM`) afresh from the current resident
/// memory (Linux ≥ 4.0: `5` written to `/proc/self/clear_refs`). False where not allowed.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

pub fn parse_status_kb(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// User and system CPU seconds of this process (`/proc/self/stat` fields 14 and 15, in clock
/// ticks of 1/100 s, Linux's USER_HZ on x86 and arm64).
pub fn cpu_seconds() -> (f64, f64) {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| parse_stat_cpu(&s))
        .unwrap_or((0.0, 0.0))
}

pub fn parse_stat_cpu(stat: &str) -> Option<(f64, f64)> {
    // The command name (field 2) may contain spaces; fields after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state): utime is field 14, stime field 15.
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime / 100.0, stime / 100.0))
}

pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status_and_stat() {
        let status = "Name:\tbench\nVmHWM:\t   51234 kB\nVmRSS:\t  40000 kB\n";
        assert_eq!(parse_status_kb(status, "VmHWM"), Some(51_234));
        assert_eq!(parse_status_kb(status, "VmRSS"), Some(40_000));
        assert_eq!(parse_status_kb(status, "VmSwap"), None);
        let stat = "123 (a b) S 1 2 3 4 5 6 7 8 9 10 250 75 0 0";
        assert_eq!(parse_stat_cpu(stat), Some((2.5, 0.75)));
    }
}
