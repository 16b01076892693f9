//! `wasi_snapshot_preview1` as the Paca host configures it (contract §1 and §"test host"): no
//! args, no environment, no preopened directories; stdin empty, stdout and stderr discarded;
//! real clocks; `random_get` deterministic, like wazero's default. All 46 functions are
//! registered with their exact signatures, so every import set a wasip1 module can have links,
//! as under the real host. With nothing to open, each file, path and socket call answers the
//! errno a descriptor-less POSIX system would: `BADF` for an unknown descriptor, and for the
//! three stdio descriptors `SPIPE` (seek/pread/pwrite), `NOTDIR` (directory and path calls),
//! `NOTSOCK` (sockets) or `INVAL` (other file calls).
//!
//! Written here rather than taken from wasmtime-wasi: under this configuration WASI is this
//! small, while wasmtime-wasi (and the component model it requires) was the longest stretch of
//! the bench's build (issue 13).

use crate::state::HostState;
use std::time::{Duration, Instant, SystemTime};
use wasmtime::{Caller, Linker};

type C<'a> = Caller<'a, HostState>;

const MODULE: &str = "wasi_snapshot_preview1";

// `errno` values (WASI preview 1 witx).
const SUCCESS: i32 = 0;
const BADF: i32 = 8;
const FAULT: i32 = 21;
const INVAL: i32 = 28;
const NOSYS: i32 = 52;
const NOTDIR: i32 = 54;
const NOTSOCK: i32 = 57;
const NOTSUP: i32 = 58;
const SPIPE: i32 = 70;

// `rights` bits and `eventrwflags`.
const RIGHT_FD_READ: u64 = 1 << 1;
const RIGHT_FD_WRITE: u64 = 1 << 6;
const RIGHT_POLL_FD_READWRITE: u64 = 1 << 27;
const EVENT_FD_READWRITE_HANGUP: u16 = 1;

/// Resolution of the realtime clock, as wazero reports it (1 µs); monotonic is 1 ns.
const REALTIME_RESOLUTION_NS: u64 = 1_000;

/// One instance's WASI state.
pub(crate) struct Wasi {
    rng: DeterministicRng,
    /// stdin, stdout, stderr: open until the guest closes them.
    open: [bool; 3],
    /// Origin of the monotonic clock.
    started: Instant,
}

impl Wasi {
    pub(crate) fn new() -> Wasi {
        Wasi {
            rng: DeterministicRng(0x5eed_0000_0000_0001),
            open: [true; 3],
            started: Instant::now(),
        }
    }

    /// The stdio descriptor `fd` is, if it is one and still open.
    fn stdio(&self, fd: i32) -> Option<usize> {
        usize::try_from(fd).ok().filter(|&i| i < 3 && self.open[i])
    }

    /// The errno for a call that needs something stdio is not (`on_stdio`).
    fn refuse(&self, fd: i32, on_stdio: i32) -> i32 {
        if self.stdio(fd).is_some() {
            on_stdio
        } else {
            BADF
        }
    }

    fn now(&self, clock: i32) -> Option<u64> {
        match clock {
            0 => Some(
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64),
            ),
            1 => Some(self.started.elapsed().as_nanos() as u64),
            _ => None,
        }
    }
}

/// Deterministic `random_get` source, like wazero's default: the same seed on every load, so
/// every instance sees the same byte stream (splitmix64). Entropy comes from the database.
struct DeterministicRng(u64);

impl DeterministicRng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// Guest memory and the instance's WASI state, borrowed together. `None`: no `memory` export.
fn split<'a>(c: &'a mut C<'_>) -> Option<(&'a mut [u8], &'a mut Wasi)> {
    let m = crate::imports::memory(c)?;
    let (data, state) = m.data_and_store_mut(c);
    Some((data, &mut state.wasi))
}

/// `len` bytes of guest memory at `ptr`, or `FAULT`.
fn at(data: &mut [u8], ptr: i32, len: usize) -> Result<&mut [u8], i32> {
    let start = ptr as u32 as usize;
    start
        .checked_add(len)
        .and_then(|end| data.get_mut(start..end))
        .ok_or(FAULT)
}

fn put(data: &mut [u8], ptr: i32, bytes: &[u8]) -> Result<(), i32> {
    at(data, ptr, bytes.len())?.copy_from_slice(bytes);
    Ok(())
}

fn get_u32(data: &mut [u8], ptr: i32) -> Result<u32, i32> {
    let b = at(data, ptr, 4)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn get_u64(data: &mut [u8], ptr: i32) -> Result<u64, i32> {
    Ok(u64::from(get_u32(data, ptr)?) | u64::from(get_u32(data, ptr.wrapping_add(4))?) << 32)
}

/// Total length of an iovec array (`{buf: u32, len: u32}` × `n`), each buffer checked to lie in
/// memory. `INVAL` when the total does not fit a `size`.
fn iovecs_len(data: &mut [u8], iovs: i32, n: i32) -> Result<u32, i32> {
    let mut total: u32 = 0;
    // A huge `n` stops at the first entry outside memory.
    for i in 0..n as u32 {
        let entry = iovs.wrapping_add((i as i32).wrapping_mul(8));
        let (buf, len) = (get_u32(data, entry)?, get_u32(data, entry.wrapping_add(4))?);
        at(data, buf as i32, len as usize)?;
        total = total.checked_add(len).ok_or(INVAL)?;
    }
    Ok(total)
}

/// Runs `f` over memory and state; a module without memory gets `FAULT`.
fn with(c: &mut C<'_>, f: impl FnOnce(&mut [u8], &mut Wasi) -> Result<(), i32>) -> i32 {
    match split(c) {
        Some((data, wasi)) => f(data, wasi).err().unwrap_or(SUCCESS),
        None => FAULT,
    }
}

fn state<'a>(c: &'a C<'_>) -> &'a Wasi {
    &c.data().wasi
}

/// Registers all 46 functions of `wasi_snapshot_preview1`.
pub(crate) fn register(l: &mut Linker<HostState>) -> wasmtime::Result<()> {
    // No args and no environment: zero counts, nothing to copy.
    for name in ["args_sizes_get", "environ_sizes_get"] {
        l.func_wrap(MODULE, name, |mut c: C<'_>, count: i32, size: i32| {
            with(&mut c, |d, _| {
                put(d, count, &0u32.to_le_bytes())?;
                put(d, size, &0u32.to_le_bytes())
            })
        })?;
    }
    for name in ["args_get", "environ_get"] {
        l.func_wrap(MODULE, name, |_: C<'_>, _: i32, _: i32| SUCCESS)?;
    }

    l.func_wrap(
        MODULE,
        "clock_res_get",
        |mut c: C<'_>, id: i32, out: i32| {
            let res = match id {
                0 => REALTIME_RESOLUTION_NS,
                1 => 1,
                _ => return INVAL,
            };
            with(&mut c, |d, _| put(d, out, &res.to_le_bytes()))
        },
    )?;
    l.func_wrap(
        MODULE,
        "clock_time_get",
        |mut c: C<'_>, id: i32, _precision: i64, out: i32| {
            let Some(now) = state(&c).now(id) else {
                return INVAL;
            };
            with(&mut c, |d, _| put(d, out, &now.to_le_bytes()))
        },
    )?;

    l.func_wrap(
        MODULE,
        "fd_write",
        |mut c: C<'_>, fd: i32, iovs: i32, n: i32, out: i32| {
            with(&mut c, |d, w| {
                // stdout and stderr are discarded; stdin is not writable.
                if !matches!(w.stdio(fd), Some(1 | 2)) {
                    return Err(BADF);
                }
                let total = iovecs_len(d, iovs, n)?;
                put(d, out, &total.to_le_bytes())
            })
        },
    )?;
    l.func_wrap(
        MODULE,
        "fd_read",
        |mut c: C<'_>, fd: i32, iovs: i32, n: i32, out: i32| {
            with(&mut c, |d, w| {
                // stdin is empty: every read is end of file.
                if w.stdio(fd) != Some(0) {
                    return Err(BADF);
                }
                iovecs_len(d, iovs, n)?;
                put(d, out, &0u32.to_le_bytes())
            })
        },
    )?;
    for name in ["fd_pread", "fd_pwrite"] {
        l.func_wrap(
            MODULE,
            name,
            |c: C<'_>, fd: i32, _: i32, _: i32, _: i64, _: i32| state(&c).refuse(fd, SPIPE),
        )?;
    }
    l.func_wrap(
        MODULE,
        "fd_seek",
        |c: C<'_>, fd: i32, _: i64, _: i32, _: i32| state(&c).refuse(fd, SPIPE),
    )?;
    l.func_wrap(MODULE, "fd_tell", |c: C<'_>, fd: i32, _: i32| {
        state(&c).refuse(fd, SPIPE)
    })?;
    l.func_wrap(MODULE, "fd_close", |mut c: C<'_>, fd: i32| {
        let w = &mut c.data_mut().wasi;
        match w.stdio(fd) {
            Some(i) => {
                w.open[i] = false;
                SUCCESS
            }
            None => BADF,
        }
    })?;
    l.func_wrap(
        MODULE,
        "fd_fdstat_get",
        |mut c: C<'_>, fd: i32, out: i32| {
            with(&mut c, |d, w| {
                let rights = match w.stdio(fd).ok_or(BADF)? {
                    0 => RIGHT_FD_READ,
                    _ => RIGHT_FD_WRITE,
                } | RIGHT_POLL_FD_READWRITE;
                // filetype 0 (unknown: a discarded stream is no terminal), no flags.
                let mut stat = [0u8; 24];
                stat[8..16].copy_from_slice(&rights.to_le_bytes());
                put(d, out, &stat)
            })
        },
    )?;
    l.func_wrap(
        MODULE,
        "fd_filestat_get",
        |mut c: C<'_>, fd: i32, out: i32| {
            with(&mut c, |d, w| {
                w.stdio(fd).ok_or(BADF)?;
                put(d, out, &[0u8; 64])
            })
        },
    )?;
    l.func_wrap(
        MODULE,
        "fd_fdstat_set_flags",
        |c: C<'_>, fd: i32, _: i32| state(&c).refuse(fd, NOTSUP),
    )?;
    l.func_wrap(
        MODULE,
        "fd_fdstat_set_rights",
        |c: C<'_>, fd: i32, _: i64, _: i64| state(&c).refuse(fd, NOTSUP),
    )?;
    l.func_wrap(
        MODULE,
        "fd_advise",
        |c: C<'_>, fd: i32, _: i64, _: i64, _: i32| state(&c).refuse(fd, SPIPE),
    )?;
    l.func_wrap(
        MODULE,
        "fd_allocate",
        |c: C<'_>, fd: i32, _: i64, _: i64| state(&c).refuse(fd, INVAL),
    )?;
    for name in ["fd_datasync", "fd_sync"] {
        l.func_wrap(MODULE, name, |c: C<'_>, fd: i32| {
            state(&c).refuse(fd, INVAL)
        })?;
    }
    l.func_wrap(
        MODULE,
        "fd_filestat_set_size",
        |c: C<'_>, fd: i32, _: i64| state(&c).refuse(fd, INVAL),
    )?;
    l.func_wrap(
        MODULE,
        "fd_filestat_set_times",
        |c: C<'_>, fd: i32, _: i64, _: i64, _: i32| state(&c).refuse(fd, INVAL),
    )?;
    l.func_wrap(
        MODULE,
        "fd_readdir",
        |c: C<'_>, fd: i32, _: i32, _: i32, _: i64, _: i32| state(&c).refuse(fd, NOTDIR),
    )?;
    l.func_wrap(MODULE, "fd_renumber", |c: C<'_>, from: i32, to: i32| {
        let w = state(&c);
        if w.stdio(from).is_some() && w.stdio(to).is_some() {
            NOTSUP
        } else {
            BADF
        }
    })?;
    // No preopens: `BADF` from fd 3 on is how wasi-libc learns the list is empty.
    l.func_wrap(MODULE, "fd_prestat_get", |_: C<'_>, _: i32, _: i32| BADF)?;
    l.func_wrap(
        MODULE,
        "fd_prestat_dir_name",
        |_: C<'_>, _: i32, _: i32, _: i32| BADF,
    )?;

    // Path calls resolve against a directory descriptor; there is none.
    for name in [
        "path_create_directory",
        "path_remove_directory",
        "path_unlink_file",
    ] {
        l.func_wrap(MODULE, name, |c: C<'_>, fd: i32, _: i32, _: i32| {
            state(&c).refuse(fd, NOTDIR)
        })?;
    }
    l.func_wrap(
        MODULE,
        "path_filestat_get",
        |c: C<'_>, fd: i32, _: i32, _: i32, _: i32, _: i32| state(&c).refuse(fd, NOTDIR),
    )?;
    l.func_wrap(
        MODULE,
        "path_filestat_set_times",
        |c: C<'_>, fd: i32, _: i32, _: i32, _: i32, _: i64, _: i64, _: i32| {
            state(&c).refuse(fd, NOTDIR)
        },
    )?;
    l.func_wrap(
        MODULE,
        "path_link",
        |c: C<'_>, fd: i32, _: i32, _: i32, _: i32, _: i32, _: i32, _: i32| {
            state(&c).refuse(fd, NOTDIR)
        },
    )?;
    l.func_wrap(
        MODULE,
        "path_open",
        |c: C<'_>, fd: i32, _: i32, _: i32, _: i32, _: i32, _: i64, _: i64, _: i32, _: i32| {
            state(&c).refuse(fd, NOTDIR)
        },
    )?;
    for name in ["path_readlink", "path_rename"] {
        l.func_wrap(
            MODULE,
            name,
            |c: C<'_>, fd: i32, _: i32, _: i32, _: i32, _: i32, _: i32| {
                state(&c).refuse(fd, NOTDIR)
            },
        )?;
    }
    l.func_wrap(
        MODULE,
        "path_symlink",
        |c: C<'_>, _: i32, _: i32, fd: i32, _: i32, _: i32| state(&c).refuse(fd, NOTDIR),
    )?;

    l.func_wrap(
        MODULE,
        "poll_oneoff",
        |mut c: C<'_>, subs: i32, events: i32, n: i32, out: i32| {
            let deadline = c.data().deadline;
            with(&mut c, |d, w| {
                poll_oneoff(d, w, deadline, subs, events, n, out)
            })
        },
    )?;
    // A trap, which is how the host sees it too (the module is closed; devhost answers 500).
    l.func_wrap(
        MODULE,
        "proc_exit",
        |_: C<'_>, code: i32| -> wasmtime::Result<()> {
            Err(wasmtime::Error::msg(format!("wasi proc_exit({code})")))
        },
    )?;
    l.func_wrap(MODULE, "proc_raise", |_: C<'_>, _: i32| NOSYS)?;
    l.func_wrap(MODULE, "sched_yield", |_: C<'_>| SUCCESS)?;
    l.func_wrap(MODULE, "random_get", |mut c: C<'_>, buf: i32, len: i32| {
        with(&mut c, |d, w| {
            w.rng.fill(at(d, buf, len as u32 as usize)?);
            Ok(())
        })
    })?;

    l.func_wrap(
        MODULE,
        "sock_accept",
        |c: C<'_>, fd: i32, _: i32, _: i32| state(&c).refuse(fd, NOTSOCK),
    )?;
    l.func_wrap(
        MODULE,
        "sock_recv",
        |c: C<'_>, fd: i32, _: i32, _: i32, _: i32, _: i32, _: i32| state(&c).refuse(fd, NOTSOCK),
    )?;
    l.func_wrap(
        MODULE,
        "sock_send",
        |c: C<'_>, fd: i32, _: i32, _: i32, _: i32, _: i32| state(&c).refuse(fd, NOTSOCK),
    )?;
    l.func_wrap(MODULE, "sock_shutdown", |c: C<'_>, fd: i32, _: i32| {
        state(&c).refuse(fd, NOTSOCK)
    })?;
    Ok(())
}

/// `poll_oneoff`: descriptor subscriptions are ready at once (stdin at end of file, stdout and
/// stderr writable, anything else `BADF`); otherwise it sleeps until the earliest clock
/// subscription (never past the call's deadline) and reports the clocks that have expired.
fn poll_oneoff(
    d: &mut [u8],
    w: &Wasi,
    deadline: Option<Instant>,
    subs: i32,
    events: i32,
    n: i32,
    out: i32,
) -> Result<(), i32> {
    const SUB: i32 = 48;
    const EVENT: usize = 32;
    if n <= 0 {
        return Err(INVAL);
    }
    let mut ready: Vec<[u8; EVENT]> = Vec::new();
    let mut clocks: Vec<(u64, Option<Duration>)> = Vec::new();
    for i in 0..n {
        let sub = subs.wrapping_add(i.wrapping_mul(SUB));
        let userdata = get_u64(d, sub)?;
        let tag = *at(d, sub.wrapping_add(8), 1)?.first().ok_or(FAULT)?;
        let mut event = [0u8; EVENT];
        event[..8].copy_from_slice(&userdata.to_le_bytes());
        event[10] = tag;
        match tag {
            0 => {
                let id = get_u32(d, sub.wrapping_add(16))? as i32;
                let timeout = get_u64(d, sub.wrapping_add(24))?;
                let absolute = get_u32(d, sub.wrapping_add(40))? & 1 == 1;
                let wait = w.now(id).map(|now| {
                    Duration::from_nanos(if absolute {
                        timeout.saturating_sub(now)
                    } else {
                        timeout
                    })
                });
                if wait.is_none() {
                    event[8..10].copy_from_slice(&(INVAL as u16).to_le_bytes());
                    ready.push(event);
                }
                clocks.push((userdata, wait));
            }
            1 | 2 => {
                let fd = get_u32(d, sub.wrapping_add(16))? as i32;
                match (tag, w.stdio(fd)) {
                    (1, Some(0)) => {
                        event[24..26].copy_from_slice(&EVENT_FD_READWRITE_HANGUP.to_le_bytes())
                    }
                    (2, Some(1 | 2)) => {}
                    _ => event[8..10].copy_from_slice(&(BADF as u16).to_le_bytes()),
                }
                ready.push(event);
            }
            _ => return Err(INVAL),
        }
    }
    if ready.is_empty() {
        let earliest = clocks
            .iter()
            .filter_map(|(_, w)| *w)
            .min()
            .unwrap_or_default();
        let until = deadline.map_or(earliest, |dl| {
            earliest.min(dl.saturating_duration_since(Instant::now()))
        });
        std::thread::sleep(until);
        for (userdata, wait) in clocks {
            if wait.is_some_and(|w| w <= until) {
                let mut event = [0u8; EVENT];
                event[..8].copy_from_slice(&userdata.to_le_bytes());
                ready.push(event);
            }
        }
    }
    for (i, event) in ready.iter().enumerate() {
        put(d, events.wrapping_add((i * EVENT) as i32), event)?;
    }
    put(d, out, &(ready.len() as u32).to_le_bytes())
}
