//! Always-on counters of the `paca` imports the plugin calls: how many calls and how long the
//! host spent in each (DB, fetch, config, events, logs), plus an opt-in capture of the SQL the
//! plugin sends. `cargo xtask bench` reads them to count host calls per operation, to split a
//! request's time between guest and host, and to replay the plugin's statements as the floor.
//!
//! Cost when nobody looks: two relaxed atomic adds and one `Instant::now()` pair per import.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The imports that are counted (the ones a plugin's hot path uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Import {
    /// `db_query2` (and the deprecated `db_query`).
    DbQuery,
    DbExec,
    Fetch,
    ConfigGet,
    EventEmit,
    Log,
}

impl Import {
    pub const ALL: [Import; 6] = [
        Import::DbQuery,
        Import::DbExec,
        Import::Fetch,
        Import::ConfigGet,
        Import::EventEmit,
        Import::Log,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Import::DbQuery => "db_query2",
            Import::DbExec => "db_exec",
            Import::Fetch => "fetch",
            Import::ConfigGet => "config_get",
            Import::EventEmit => "event_emit",
            Import::Log => "log",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

const N: usize = Import::ALL.len();

/// A statement as the plugin sent it (SQL text and the JSON params array).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapturedSql {
    pub import: Import,
    pub sql: String,
    pub params: Vec<u8>,
}

/// The live counters (one set per [`crate::HostEnv`]).
#[derive(Debug, Default)]
pub struct HostStats {
    calls: [AtomicU64; N],
    nanos: [AtomicU64; N],
    capturing: AtomicBool,
    captured: Mutex<Vec<CapturedSql>>,
}

/// Counters at one moment; subtract two with [`StatsSnapshot::since`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    calls: [u64; N],
    nanos: [u64; N],
}

impl StatsSnapshot {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &StatsSnapshot) -> StatsSnapshot {
        let mut d = StatsSnapshot::default();
        for i in 0..N {
            d.calls[i] = self.calls[i].saturating_sub(earlier.calls[i]);
            d.nanos[i] = self.nanos[i].saturating_sub(earlier.nanos[i]);
        }
        d
    }

    pub fn calls(&self, import: Import) -> u64 {
        self.calls[import.index()]
    }

    /// Wall time spent inside this import (including writing its result into the guest).
    pub fn time(&self, import: Import) -> Duration {
        Duration::from_nanos(self.nanos[import.index()])
    }

    /// `db_query2` + `db_exec` calls.
    pub fn db_calls(&self) -> u64 {
        self.calls(Import::DbQuery) + self.calls(Import::DbExec)
    }

    pub fn db_time(&self) -> Duration {
        self.time(Import::DbQuery) + self.time(Import::DbExec)
    }

    /// Time in every counted import.
    pub fn total_time(&self) -> Duration {
        Import::ALL.iter().map(|i| self.time(*i)).sum()
    }
}

/// Adds the elapsed time to its import when dropped.
pub(crate) struct Timer<'a> {
    stats: &'a HostStats,
    import: Import,
    start: Instant,
}

impl Drop for Timer<'_> {
    fn drop(&mut self) {
        let i = self.import.index();
        let ns = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.stats.calls[i].fetch_add(1, Ordering::Relaxed);
        self.stats.nanos[i].fetch_add(ns, Ordering::Relaxed);
    }
}

impl HostStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        let mut s = StatsSnapshot::default();
        for i in 0..N {
            s.calls[i] = self.calls[i].load(Ordering::Relaxed);
            s.nanos[i] = self.nanos[i].load(Ordering::Relaxed);
        }
        s
    }

    /// Starts timing one import call.
    pub(crate) fn timer(&self, import: Import) -> Timer<'_> {
        Timer {
            stats: self,
            import,
            start: Instant::now(),
        }
    }

    /// Starts or stops recording every statement the plugin sends.
    pub fn set_capture(&self, on: bool) {
        self.capturing.store(on, Ordering::Relaxed);
    }

    /// The statements recorded so far (and forgets them).
    pub fn take_captured(&self) -> Vec<CapturedSql> {
        std::mem::take(&mut *self.captured.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub(crate) fn capture(&self, import: Import, sql: &[u8], params: &[u8]) {
        if !self.capturing.load(Ordering::Relaxed) {
            return;
        }
        self.captured
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(CapturedSql {
                import,
                sql: String::from_utf8_lossy(sql).into_owned(),
                params: params.to_vec(),
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_count_calls_and_time_per_import() {
        let s = HostStats::default();
        let before = s.snapshot();
        {
            let _t = s.timer(Import::DbQuery);
            std::hint::black_box(0);
        }
        drop(s.timer(Import::DbExec));
        drop(s.timer(Import::DbExec));
        let d = s.snapshot().since(&before);
        assert_eq!(d.calls(Import::DbQuery), 1);
        assert_eq!(d.calls(Import::DbExec), 2);
        assert_eq!(d.db_calls(), 3);
        assert_eq!(d.calls(Import::Fetch), 0);
        assert_eq!(d.time(Import::Fetch), Duration::ZERO);
    }

    #[test]
    fn capture_only_while_enabled() {
        let s = HostStats::default();
        s.capture(Import::DbQuery, b"SELECT 1", b"[]");
        s.set_capture(true);
        s.capture(Import::DbExec, b"DELETE FROM t", b"[1]");
        s.set_capture(false);
        s.capture(Import::DbQuery, b"SELECT 2", b"[]");
        let got = s.take_captured();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].sql, "DELETE FROM t");
        assert_eq!(got[0].import, Import::DbExec);
        assert!(s.take_captured().is_empty());
    }
}
