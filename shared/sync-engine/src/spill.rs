//! Key-ordered scratch space in bounded memory: items pushed in any order (Zoom lists users
//! in its own order) come back in key order (the store's order), so a task can merge them
//! with a stored listing without holding an account in memory. Up to `run_items` items are
//! sorted in memory; beyond that each sorted run goes to a file in the temporary directory
//! (Lambda's `/tmp`, 512 MB by default: 200,000 users take about 60 MB) and reading merges
//! the runs. Memory: one run while pushing, one buffered entry per run while reading. The
//! files go when the spill (or its reader) is dropped.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Items sorted in memory before a run is written out. 1,024 rather than 4,096: the worker's
/// peak resident memory was 1.4 MB lower at 10,000 users and 2.0 MB at 50,000, in the same
/// time (BENCHMARKS.md, #18 item 4).
pub(crate) const RUN_ITEMS: usize = 1_024;

/// The directory of one spill's runs; removed on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn create() -> io::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "zts-spill-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        // A leftover of an earlier invocation with the same pid (Lambda reuses sandboxes).
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Items to be read back in key order; equal keys come back in push order.
pub(crate) struct Spill<T> {
    run_items: usize,
    run: Vec<(String, u64, T)>,
    pushed: u64,
    dir: Option<ScratchDir>,
    runs: Vec<PathBuf>,
}

impl<T: Serialize + DeserializeOwned> Spill<T> {
    pub(crate) fn new(run_items: usize) -> Self {
        Self {
            run_items: run_items.max(1),
            run: Vec::new(),
            pushed: 0,
            dir: None,
            runs: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, key: String, item: T) -> io::Result<()> {
        self.run.push((key, self.pushed, item));
        self.pushed += 1;
        if self.run.len() >= self.run_items {
            self.write_run()?;
        }
        Ok(())
    }

    fn write_run(&mut self) -> io::Result<()> {
        if self.dir.is_none() {
            self.dir = Some(ScratchDir::create()?);
        }
        let dir = self.dir.as_ref().map(|d| d.0.clone()).unwrap_or_default();
        let path = dir.join(format!("run-{}", self.runs.len()));
        let mut out = BufWriter::new(File::create(&path)?);
        self.run.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        for entry in &self.run {
            serde_json::to_writer(&mut out, entry)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        // The next run fills the same buffer instead of growing a new one.
        self.run.clear();
        self.runs.push(path);
        Ok(())
    }

    /// Every item, in (key, push order) order.
    pub(crate) fn into_sorted(mut self) -> io::Result<Sorted<T>> {
        if self.runs.is_empty() {
            let mut run = std::mem::take(&mut self.run);
            run.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
            return Ok(Sorted {
                memory: run.into_iter(),
                readers: Vec::new(),
                heads: BinaryHeap::new(),
                pending: Vec::new(),
                _dir: None,
            });
        }
        if !self.run.is_empty() {
            self.write_run()?;
        }
        // At most FAN_IN runs are read at once: more are merged FAN_IN at a time into longer
        // runs first (open files and read buffers stay few whatever the size).
        let dir = self.dir.take();
        let mut runs = std::mem::take(&mut self.runs);
        let mut merged = 0usize;
        while runs.len() > FAN_IN {
            let mut longer = Vec::new();
            for group in runs.chunks(FAN_IN) {
                let path = dir
                    .as_ref()
                    .map(|d| d.0.join(format!("merged-{merged}")))
                    .unwrap_or_default();
                merged += 1;
                let mut out = BufWriter::new(File::create(&path)?);
                let mut sorted = Sorted::<T>::reading(group, None)?;
                while let Some(entry) = sorted.next_entry() {
                    serde_json::to_writer(&mut out, &entry?)?;
                    out.write_all(b"\n")?;
                }
                out.flush()?;
                for done in group {
                    std::fs::remove_file(done)?;
                }
                longer.push(path);
            }
            runs = longer;
        }
        Sorted::reading(&runs, dir)
    }
}

/// A spill's items in key order.
pub(crate) struct Sorted<T> {
    memory: std::vec::IntoIter<(String, u64, T)>,
    readers: Vec<io::Lines<BufReader<File>>>,
    /// The smallest unread entry of each run: (key, push order, run).
    heads: BinaryHeap<Reverse<(String, u64, usize)>>,
    /// Each run's head item.
    pending: Vec<Option<T>>,
    _dir: Option<ScratchDir>,
}

impl<T: DeserializeOwned> Sorted<T> {
    /// A merge of the sorted runs at `paths`.
    fn reading(paths: &[PathBuf], dir: Option<ScratchDir>) -> io::Result<Self> {
        let mut sorted = Sorted {
            memory: Vec::new().into_iter(),
            readers: Vec::new(),
            heads: BinaryHeap::new(),
            pending: Vec::new(),
            _dir: dir,
        };
        for path in paths {
            sorted
                .readers
                .push(BufReader::new(File::open(path)?).lines());
            sorted.pending.push(None);
            let i = sorted.readers.len() - 1;
            sorted.advance(i)?;
        }
        Ok(sorted)
    }

    /// The next entry with its push order.
    fn next_entry(&mut self) -> Option<io::Result<(String, u64, T)>> {
        if self.readers.is_empty() {
            return self.memory.next().map(Ok);
        }
        let Reverse((key, seq, run)) = self.heads.pop()?;
        let item = self.pending[run].take()?;
        Some(self.advance(run).map(|()| (key, seq, item)))
    }

    fn advance(&mut self, run: usize) -> io::Result<()> {
        if let Some(line) = self.readers[run].next() {
            let (key, seq, item): (String, u64, T) = serde_json::from_str(&line?)?;
            self.heads.push(Reverse((key, seq, run)));
            self.pending[run] = Some(item);
        }
        Ok(())
    }
}

impl<T: DeserializeOwned> Iterator for Sorted<T> {
    type Item = io::Result<(String, T)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry()
            .map(|entry| entry.map(|(key, _, item)| (key, item)))
    }
}

/// (key, value) pairs in key order in a scratch file, scanned in order (many sorted keys are
/// looked up in one pass: [`value_at`]). Memory: one line.
pub(crate) struct SortedTable {
    path: PathBuf,
    _dir: ScratchDir,
}

impl SortedTable {
    /// From pairs in key order (a pair out of order is an error: the lookups rely on it).
    pub(crate) fn write<E: From<io::Error>>(
        pairs: impl Iterator<Item = Result<(String, String), E>>,
    ) -> Result<Self, E> {
        let dir = ScratchDir::create()?;
        let path = dir.0.join("table");
        let mut out = BufWriter::new(File::create(&path)?);
        let mut last: Option<String> = None;
        for pair in pairs {
            let (key, value) = pair?;
            if last.as_ref().is_some_and(|l| *l > key) {
                return Err(io::Error::other("table keys out of order").into());
            }
            serde_json::to_writer(&mut out, &(&key, &value)).map_err(io::Error::from)?;
            out.write_all(b"\n")?;
            last = Some(key);
        }
        out.flush()?;
        Ok(Self { path, _dir: dir })
    }

    /// Every pair, in key order.
    pub(crate) fn scan(
        &self,
    ) -> io::Result<impl Iterator<Item = io::Result<(String, String)>> + use<>> {
        let lines = BufReader::new(File::open(&self.path)?).lines();
        Ok(lines.map(|line| Ok(serde_json::from_str(&line?)?)))
    }
}

/// The value of `key` in a sorted scan, passing over smaller keys (keys asked in ascending
/// order: a merge).
pub(crate) fn value_at(
    scan: &mut std::iter::Peekable<impl Iterator<Item = io::Result<(String, String)>>>,
    key: &str,
) -> io::Result<Option<String>> {
    loop {
        match scan.peek() {
            Some(Ok((k, _))) if k.as_str() < key => {
                scan.next();
            }
            Some(Ok((k, _))) if k == key => {
                return Ok(scan.next().and_then(Result::ok).map(|(_, v)| v));
            }
            Some(Err(_)) => return scan.next().transpose().map(|_| None),
            _ => return Ok(None),
        }
    }
}

/// Runs merged into one once there are this many (open files stay few).
const FAN_IN: usize = 16;

/// The latest date per key, in bounded memory however many dates come: up to `limit` keys in
/// memory; a full buffer becomes a sorted run in scratch space, and every [`FAN_IN`] runs are
/// merged into one (the latest per key), so the files hold about one line per key.
pub(crate) struct Latest {
    limit: usize,
    buffer: BTreeMap<String, i64>,
    runs: Vec<SortedTable>,
}

/// A date as a fixed-width string (microseconds since 1970): string order is time order.
fn encode_at(micros: i64) -> String {
    format!("{:020}", micros.max(0))
}

impl Latest {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            buffer: BTreeMap::new(),
            runs: Vec::new(),
        }
    }

    pub(crate) fn add(&mut self, key: String, at: DateTime<Utc>) -> io::Result<()> {
        let micros = at.timestamp_micros();
        let latest = self.buffer.entry(key).or_insert(micros);
        *latest = (*latest).max(micros);
        if self.buffer.len() >= self.limit {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        let buffer = std::mem::take(&mut self.buffer);
        let pairs = buffer
            .into_iter()
            .map(|(k, v)| Ok::<_, io::Error>((k, encode_at(v))));
        self.runs.push(SortedTable::write(pairs)?);
        if self.runs.len() >= FAN_IN {
            let runs = std::mem::take(&mut self.runs);
            let merged = SortedTable::write(merge_latest(&runs)?)?;
            self.runs.push(merged);
        }
        Ok(())
    }

    /// Every key once with its latest date, in key order.
    pub(crate) fn into_sorted(
        mut self,
    ) -> io::Result<impl Iterator<Item = io::Result<(String, DateTime<Utc>)>>> {
        if !self.buffer.is_empty() {
            self.spill()?;
        }
        let merged = merge_latest(&self.runs)?;
        // The runs' files stay until the merge is read (open files outlive their names).
        let runs = self.runs;
        Ok(merged.map(move |pair| {
            let _keep = &runs;
            let (key, at) = pair?;
            let micros: i64 = at.parse().map_err(|_| io::Error::other("scratch date"))?;
            let at = DateTime::<Utc>::from_timestamp_micros(micros)
                .ok_or_else(|| io::Error::other("scratch date"))?;
            Ok((key, at))
        }))
    }
}

/// The pairs of sorted tables in key order, each key once with its greatest value.
fn merge_latest(
    tables: &[SortedTable],
) -> io::Result<impl Iterator<Item = io::Result<(String, String)>> + use<>> {
    let mut scans = tables
        .iter()
        .map(|t| t.scan().map(|s| s.peekable()))
        .collect::<io::Result<Vec<_>>>()?;
    Ok(std::iter::from_fn(move || {
        // The smallest key at the head of any scan; an error ends the merge with it.
        let mut smallest: Option<String> = None;
        for scan in &mut scans {
            match scan.peek() {
                Some(Ok((key, _))) if smallest.as_ref().is_none_or(|s| key < s) => {
                    smallest = Some(key.clone());
                }
                Some(Err(_)) => return scan.next(),
                _ => {}
            }
        }
        let key = smallest?;
        let mut latest: Option<String> = None;
        for scan in &mut scans {
            if let Some(Ok((k, _))) = scan.peek()
                && *k == key
                && let Some(Ok((_, value))) = scan.next()
                && latest.as_ref().is_none_or(|l| value > *l)
            {
                latest = Some(value);
            }
        }
        latest.map(|value| Ok((key, value)))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pseudo-random order (a fixed LCG) with repeated keys.
    fn scrambled(n: u64) -> Vec<(String, u64)> {
        let mut x = 7u64;
        (0..n)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (format!("key-{:05}", (x >> 33) % (n / 2).max(1)), i)
            })
            .collect()
    }

    fn read_back(n: u64, run_items: usize) -> (Vec<(String, u64)>, usize) {
        let mut spill = Spill::new(run_items);
        for (key, value) in scrambled(n) {
            spill.push(key, value).unwrap();
        }
        let runs = spill.runs.len() + usize::from(!spill.run.is_empty() && !spill.runs.is_empty());
        let items = spill.into_sorted().unwrap().map(Result::unwrap).collect();
        (items, runs)
    }

    /// The same order the rule gives (sort by key, stable on push order), in memory and from
    /// many files alike.
    #[test]
    fn items_come_back_in_key_then_push_order() {
        let mut expected = scrambled(10_000);
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        let (in_memory, runs) = read_back(10_000, 20_000);
        assert_eq!(runs, 0);
        assert_eq!(in_memory, expected);
        let (from_files, runs) = read_back(10_000, 333);
        assert_eq!(runs, 31, "10,000 items in runs of 333");
        assert_eq!(from_files, expected);
        // 200 runs: merged FAN_IN at a time first (two rounds), the order the same.
        let (many_files, runs) = read_back(10_000, 50);
        assert_eq!(runs, 200);
        assert_eq!(many_files, expected);
    }

    /// Lookups find exactly the keys the table holds, whatever the mix.
    #[test]
    fn a_table_answers_sorted_lookups() {
        let pairs: Vec<(String, String)> = (0..1_000)
            .map(|i| (format!("k{:04}", i * 3), format!("v{i}")))
            .collect();
        let table = SortedTable::write(pairs.iter().cloned().map(Ok::<_, io::Error>)).unwrap();
        let keys: Vec<String> = (0..3_010).map(|i| format!("k{i:04}")).collect();
        let mut scan = table.scan().unwrap().peekable();
        let found: Vec<Option<String>> = keys
            .iter()
            .map(|k| value_at(&mut scan, k).unwrap())
            .collect();
        for (key, value) in keys.iter().zip(&found) {
            let want = pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
            assert_eq!(*value, want, "{key}");
        }
        let scanned: Vec<_> = table.scan().unwrap().map(Result::unwrap).collect();
        assert_eq!(scanned, pairs);
        let unordered =
            [("b", "1"), ("a", "2")].map(|(k, v)| Ok::<_, io::Error>((k.into(), v.into())));
        assert!(SortedTable::write(unordered.into_iter()).is_err());
    }

    /// The latest date of every key, whatever the buffer size and however many merges: the
    /// same as the maximum the rule gives.
    #[test]
    fn latest_keeps_each_keys_latest_date() {
        let base = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(20_000);
        let events: Vec<(String, DateTime<Utc>)> = scrambled(30_000)
            .into_iter()
            .map(|(key, i)| {
                (
                    key,
                    base + chrono::Duration::seconds(((i * 7_919) % 10_007) as i64),
                )
            })
            .collect();
        let mut expected: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
        for (key, at) in &events {
            let e = expected.entry(key.clone()).or_insert(*at);
            *e = (*e).max(*at);
        }
        for limit in [40, 500, 100_000] {
            let mut latest = Latest::new(limit);
            for (key, at) in &events {
                latest.add(key.clone(), *at).unwrap();
            }
            if limit == 40 {
                assert!(latest.runs.len() < FAN_IN, "runs are merged");
            }
            let got: BTreeMap<String, DateTime<Utc>> =
                latest.into_sorted().unwrap().map(Result::unwrap).collect();
            assert_eq!(got, expected, "limit {limit}");
        }
    }

    #[test]
    fn the_files_go_with_the_reader() {
        let mut spill = Spill::new(2);
        for i in 0..5u32 {
            spill.push(format!("k{i}"), i).unwrap();
        }
        let dir = spill.dir.as_ref().unwrap().0.clone();
        assert!(dir.exists());
        let mut sorted = spill.into_sorted().unwrap();
        assert_eq!(sorted.next().unwrap().unwrap(), ("k0".to_owned(), 0));
        drop(sorted);
        assert!(!dir.exists());
        let empty: Spill<u32> = Spill::new(2);
        assert_eq!(empty.into_sorted().unwrap().count(), 0);
    }
}
