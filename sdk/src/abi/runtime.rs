//! Glue between the raw exports and the plugin's entry points.
//!
//! [`process_request`] is plain Rust (tested natively); the rest touches linear memory and the
//! process-wide allocation list, so it exists only on wasm32.

use super::envelope::{Request, Response};

/// Decodes an envelope, runs the handler, encodes the result. A malformed envelope never
/// reaches the handler: it becomes 400 `BAD_REQUEST` in Paca's error envelope.
#[inline]
pub fn process_request(payload: &[u8], handler: impl FnOnce(Request) -> Response) -> Vec<u8> {
    let response = match Request::decode(payload) {
        Ok(req) => handler(req),
        Err(e) => Response::error(400, "BAD_REQUEST", &e.to_string()),
    };
    response.encode()
}

/// Packs a result for the host: `ptr << 32 | len`; `(_, 0)` is the empty response `0`.
pub fn pack(ptr: usize, len: usize) -> i64 {
    if len == 0 {
        return 0;
    }
    (((ptr as u64) << 32) | (len as u64 & 0xFFFF_FFFF)) as i64
}

#[cfg(target_arch = "wasm32")]
mod wasm {
    use super::super::alloc::HostAllocations;
    use super::{pack, process_request};
    use std::cell::UnsafeCell;

    struct Registry(UnsafeCell<HostAllocations>);

    // SAFETY: wasm32-wasip1 (without the threads proposal) runs one thread; the host serializes
    // every call into an instance with a mutex.
    unsafe impl Sync for Registry {}

    static REGISTRY: Registry = Registry(UnsafeCell::new(HostAllocations::new()));

    /// Runs `f` with exclusive access to the allocation list. `f` must not call a host import
    /// (the host may re-enter `paca_malloc`); every caller below is a short bookkeeping step.
    fn with_registry<R>(f: impl FnOnce(&mut HostAllocations) -> R) -> R {
        // SAFETY: single-threaded, and no caller re-enters while the reference is alive (no
        // host import is called inside `f`), so this is the only live reference.
        f(unsafe { &mut *REGISTRY.0.get() })
    }

    pub fn paca_malloc(size: i32) -> i32 {
        // The host passes a u32 length in an i32.
        let size = size as u32 as usize;
        with_registry(|r| r.alloc(size)) as usize as i32
    }

    pub fn reset_allocator() {
        with_registry(|r| r.reset());
    }

    /// # Safety contract with the host
    /// `(ptr, len)` is `(0, 0)` or a block the host wrote via `paca_malloc`; it stays valid until
    /// `ResetAllocator`, which the host calls only after copying our result out.
    fn input<'a>(ptr: i32, len: i32) -> &'a [u8] {
        let (ptr, len) = (ptr as u32 as usize, len as u32 as usize);
        if len == 0 || ptr == 0 {
            return &[];
        }
        // SAFETY: see above; the bytes are host-written guest memory that outlives this call.
        unsafe { std::slice::from_raw_parts(ptr as *const u8, len) }
    }

    pub fn handle_request_export(
        ptr: i32,
        len: i32,
        handler: impl FnOnce(crate::abi::envelope::Request) -> crate::abi::envelope::Response,
    ) -> i64 {
        let out = process_request(input(ptr, len), handler);
        let (p, l) = with_registry(|r| r.set_response(out));
        pack(p, l)
    }

    pub fn handle_event_export(
        topic_ptr: i32,
        topic_len: i32,
        payload_ptr: i32,
        payload_len: i32,
        handler: impl FnOnce(&str, &[u8]),
    ) {
        let Ok(topic) = std::str::from_utf8(input(topic_ptr, topic_len)) else {
            return;
        };
        handler(topic, input(payload_ptr, payload_len));
    }
}

#[cfg(target_arch = "wasm32")]
pub use wasm::{handle_event_export, handle_request_export, paca_malloc, reset_allocator};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn decode_result(bytes: &[u8]) -> (u64, Value) {
        let v: Value = serde_json::from_slice(bytes).unwrap();
        let body = crate::abi::base64::decode(v["body"].as_str().unwrap()).unwrap();
        (
            v["status"].as_u64().unwrap(),
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        )
    }

    #[test]
    fn malformed_envelope_is_400_bad_request_and_skips_handler() {
        let mut called = false;
        let out = process_request(b"{nope", |_| {
            called = true;
            Response::no_content()
        });
        assert!(!called);
        let (status, body) = decode_result(&out);
        assert_eq!(status, 400);
        assert_eq!(body["success"], false);
        assert_eq!(body["error_code"], "BAD_REQUEST");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .starts_with("malformed request envelope")
        );
    }

    #[test]
    fn handler_sees_decoded_request() {
        let out = process_request(br#"{"method":"get","path":"/a/b/","body":"aGk="}"#, |req| {
            assert_eq!(req.method, "GET");
            assert_eq!(req.path, "a/b");
            assert_eq!(req.body, b"hi");
            Response::json(201, &serde_json::json!({"ok": true}))
        });
        let (status, body) = decode_result(&out);
        assert_eq!(status, 201);
        assert_eq!(body["ok"], true);
    }

    #[test]
    fn pack_layout() {
        assert_eq!(pack(0x1234, 0), 0);
        assert_eq!(pack(0x10, 0x20) as u64, (0x10u64 << 32) | 0x20);
        assert_eq!((pack(0xFFFF_FFF0, 7) as u64) >> 32, 0xFFFF_FFF0);
    }
}
