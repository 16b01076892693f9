//! Bookkeeping for memory the host writes into.
//!
//! The host never frees: it calls `paca_malloc` for the request payload and for every import
//! result, then calls `ResetAllocator` once when the export call is over. We back `paca_malloc`
//! with the global allocator (so it grows as needed and never runs out at an arbitrary arena
//! size), remember every block, and free them all — plus the response buffer handed out by the
//! previous `HandleRequest` — on reset. Linear memory therefore stays flat across calls.
//!
//! Re-entrancy: `paca_malloc` runs *inside* host imports while guest code is suspended in the
//! import call. The guest never holds a reference into this state across an import call: every
//! access is a short, non-reentrant method call on [`HostAllocations`] (see
//! [`runtime`](super::runtime)). There is no `RefCell`, so a trap (panic = abort on wasm) can never
//! leave a borrow flag set; the next `ResetAllocator` simply frees whatever is listed.

use std::alloc::{Layout, alloc, dealloc};

/// Alignment of host blocks. The host writes bytes and unaligned LE u32s; 8 costs nothing.
const ALIGN: usize = 8;

/// Outstanding host allocations plus the last response buffer.
#[derive(Debug, Default)]
pub struct HostAllocations {
    blocks: Vec<(usize, Layout)>,
    response: Option<Vec<u8>>,
}

impl HostAllocations {
    pub const fn new() -> Self {
        HostAllocations {
            blocks: Vec::new(),
            response: None,
        }
    }

    /// Allocates `size` bytes for the host and records the block.
    ///
    /// Size 0 gets a real 1-byte block (non-null, freed on reset like any other), so the answer
    /// is consistent. Returns null only when the global allocator itself fails (out of memory);
    /// the host turns that into an error instead of trapping.
    pub fn alloc(&mut self, size: usize) -> *mut u8 {
        let Ok(layout) = Layout::from_size_align(size.max(1), ALIGN) else {
            return std::ptr::null_mut();
        };
        // Reserve the list slot first, so a successful allocation is always recorded.
        if self.blocks.try_reserve(1).is_err() {
            return std::ptr::null_mut();
        }
        // SAFETY: layout has non-zero size.
        let ptr = unsafe { alloc(layout) };
        if !ptr.is_null() {
            self.blocks.push((ptr as usize, layout));
        }
        ptr
    }

    /// Keeps `bytes` alive until the next reset and returns `(ptr, len)` for the host to read.
    /// Replaces (and frees) any previous response.
    pub fn set_response(&mut self, bytes: Vec<u8>) -> (usize, usize) {
        let out = (bytes.as_ptr() as usize, bytes.len());
        self.response = Some(bytes);
        out
    }

    /// Frees every recorded block and the response buffer.
    pub fn reset(&mut self) {
        for (ptr, layout) in self.blocks.drain(..) {
            // SAFETY: every entry was produced by `alloc` with exactly this layout and is
            // removed from the list as it is freed, so it is freed once.
            unsafe { dealloc(ptr as *mut u8, layout) };
        }
        self.response = None;
    }

    /// Number of host blocks not yet freed.
    pub fn outstanding(&self) -> usize {
        self.blocks.len()
    }

    /// Whether a response buffer is being kept alive.
    pub fn has_response(&self) -> bool {
        self.response.is_some()
    }

    /// Whether `[ptr, ptr+len)` lies inside one recorded host block.
    pub fn contains(&self, ptr: usize, len: usize) -> bool {
        self.blocks
            .iter()
            .any(|&(p, l)| ptr >= p && ptr.saturating_add(len) <= p + l.size())
    }
}

impl Drop for HostAllocations {
    fn drop(&mut self) {
        self.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_thousand_request_cycles_leave_nothing_outstanding() {
        let mut a = HostAllocations::new();
        for i in 0..10_000usize {
            // Request payload, a few import results (DB JSON, fetch JSON, an empty one).
            let sizes = [512 + i % 97, 4096, 17, 0, 1 << (i % 12)];
            for &s in &sizes {
                let p = a.alloc(s);
                assert!(!p.is_null(), "alloc({s}) returned null");
                // The host writes the whole block.
                unsafe { std::ptr::write_bytes(p, 0xAB, s) };
            }
            assert_eq!(a.outstanding(), sizes.len());
            let (ptr, len) = a.set_response(vec![b'x'; 100 + i % 13]);
            assert_ne!(ptr, 0);
            assert_eq!(len, 100 + i % 13);
            a.reset();
            assert_eq!(a.outstanding(), 0, "cycle {i}");
            assert!(!a.has_response(), "cycle {i}");
        }
    }

    #[test]
    fn zero_size_gets_distinct_non_null_blocks() {
        let mut a = HostAllocations::new();
        let p = a.alloc(0);
        let q = a.alloc(0);
        assert!(!p.is_null() && !q.is_null());
        assert_ne!(p, q);
        assert_eq!(a.outstanding(), 2);
        a.reset();
        assert_eq!(a.outstanding(), 0);
    }

    #[test]
    fn contains_checks_block_bounds() {
        let mut a = HostAllocations::new();
        let p = a.alloc(16) as usize;
        assert!(a.contains(p, 16));
        assert!(a.contains(p + 4, 8));
        assert!(!a.contains(p + 8, 9));
        assert!(!a.contains(p.wrapping_sub(1), 1));
        a.reset();
        assert!(!a.contains(p, 1));
    }

    #[test]
    fn set_response_replaces_previous() {
        let mut a = HostAllocations::new();
        a.set_response(b"first".to_vec());
        let (_, len) = a.set_response(b"second!".to_vec());
        assert_eq!(len, 7);
        assert!(a.has_response());
        a.reset();
        assert!(!a.has_response());
    }
}
