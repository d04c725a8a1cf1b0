//! Every function's allocator: jemalloc with one arena that gives freed pages back at once
//! (its options: `.cargo/config.toml`, compiled in).
//!
//! With glibc's malloc the worker's peak resident memory grew with the account although its
//! live heap hardly does (heaptrack: about 3.5 MB at 10,000 users and 4 MB at 200,000 during
//! Application Access): its arenas keep freed memory fragmented over a run 20 times longer,
//! 14.2 MB at 10,000 users against 16.4 MB at 200,000. With jemalloc and these options: 14.0
//! and 14.2 MB (BENCHMARKS.md, issue #18, session 14). One arena: a function has one or two
//! vCPUs, and per-thread arenas each keep free pages of their own.

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[cfg(test)]
mod tests {
    use tikv_jemalloc_ctl::{config, opt};

    /// This process's resident memory (`/proc/self/statm`), bytes.
    fn resident() -> u64 {
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
        let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
        pages * 4096
    }

    /// The options were compiled in, and jemalloc is the allocator in use: one arena (its
    /// default is four per CPU), and memory freed leaves the resident memory at once (its default
    /// decay keeps it for 10 s).
    #[test]
    fn jemalloc_runs_with_one_arena_and_gives_freed_pages_back() {
        let conf = config::malloc_conf::read().unwrap();
        assert!(conf.contains("dirty_decay_ms:0"), "{conf}");
        assert_eq!(opt::narenas::read().unwrap(), 1);

        let before = resident();
        // 64 MB in 16 KB blocks: the arena's own pages (blocks of 8 MB and more go to
        // jemalloc's oversize arena, which purges at once whatever the options).
        let blocks: Vec<Vec<u8>> = (0..4_096).map(|_| vec![1u8; 16 << 10]).collect();
        let held = resident();
        drop(std::hint::black_box(blocks));
        let after = resident();
        assert!(held >= before + (60 << 20), "{before} → {held}");
        assert!(after < before + (16 << 20), "freed: {held} → {after}");
    }
}
