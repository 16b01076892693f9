//! The `paca` host imports (exact signatures from the host contract) and [`WasmHost`].
//!
//! Rules followed on every call:
//! - out-buffers are zeroed first (the host writes nothing on some error paths);
//! - an output pair `(0, 0)` means "empty";
//! - host-written blocks belong to the allocation list (`ResetAllocator` frees them), so they are
//!   copied into Rust values here and never freed individually.

use serde_json::Value;

use crate::host::{FetchRequest, FetchResponse, Host, HostError, LogLevel, QueryResult};

mod raw {
    #[link(wasm_import_module = "paca")]
    unsafe extern "C" {
        pub fn db_query2(
            sql_ptr: i64,
            sql_len: i64,
            params_ptr: i64,
            params_len: i64,
            res_ptr_ptr: i64,
            res_len_ptr: i64,
            err_ptr_ptr: i64,
            err_len_ptr: i64,
        );
        pub fn db_exec(
            sql_ptr: i64,
            sql_len: i64,
            params_ptr: i64,
            params_len: i64,
            rows_affected_ptr: i64,
            err_ptr_ptr: i64,
            err_len_ptr: i64,
        );
        pub fn config_get(key_ptr: i64, key_len: i64, val_ptr_ptr: i64, val_len_ptr: i64);
        pub fn fetch(req_ptr: i64, req_len: i64, res_ptr_ptr: i64, res_len_ptr: i64);
        pub fn event_emit(
            topic_ptr: i64,
            topic_len: i64,
            payload_ptr: i64,
            payload_len: i64,
        ) -> i32;
        pub fn activity_record(payload_ptr: i64, payload_len: i64) -> i32;
        // Renamed locally so it cannot collide with libm's `log`.
        #[link_name = "log"]
        pub fn paca_log(level: i32, msg_ptr: i64, msg_len: i64);
    }
}

fn addr<T>(p: *const T) -> i64 {
    p as usize as i64
}

/// `(ptr, len)` of a byte slice as the host's i64 pair.
fn pair(bytes: &[u8]) -> (i64, i64) {
    if bytes.is_empty() {
        (0, 0)
    } else {
        (addr(bytes.as_ptr()), bytes.len() as i64)
    }
}

/// An output pair the host fills: LE u32 ptr and len, zero-initialised.
#[derive(Default)]
struct OutPair {
    ptr: u32,
    len: u32,
}

impl OutPair {
    fn ptrs(&mut self) -> (i64, i64) {
        (addr(&raw mut self.ptr), addr(&raw mut self.len))
    }

    /// Copies the host-written bytes out; `None` for `(0,0)` or a zero length.
    #[inline]
    fn take(&self) -> Option<Vec<u8>> {
        let ptr = u32::from_le(self.ptr) as usize;
        let len = u32::from_le(self.len) as usize;
        if len == 0 || ptr == 0 {
            return None;
        }
        // SAFETY: the host wrote `len` bytes at `ptr`, a block it obtained from `paca_malloc`;
        // it stays allocated until `ResetAllocator` at the end of this export call.
        Some(unsafe { std::slice::from_raw_parts(ptr as *const u8, len) }.to_vec())
    }

    #[inline]
    fn take_string(&self) -> Option<String> {
        self.take()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }
}

#[inline]
fn params_json(params: &[Value]) -> Vec<u8> {
    // Serializing `[Value]` cannot fail.
    serde_json::to_vec(params).unwrap_or_else(|_| b"[]".to_vec())
}

/// The real host, over the `paca` imports. Zero-sized; all state lives in the host.
#[derive(Debug, Clone, Copy, Default)]
pub struct WasmHost;

impl Host for WasmHost {
    #[inline]
    fn db_query(&self, sql: &str, params: &[Value]) -> Result<QueryResult, HostError> {
        let params = params_json(params);
        let (sp, sl) = pair(sql.as_bytes());
        let (pp, pl) = pair(&params);
        let mut res = OutPair::default();
        let mut err = OutPair::default();
        let (rp, rl) = res.ptrs();
        let (ep, el) = err.ptrs();
        // SAFETY: all pointers reference live buffers of the stated lengths.
        unsafe { raw::db_query2(sp, sl, pp, pl, rp, rl, ep, el) };
        if let Some(e) = err.take_string() {
            return Err(HostError::Db(e));
        }
        let Some(bytes) = res.take() else {
            return Err(HostError::Protocol(
                "db_query2 returned neither a result nor an error".into(),
            ));
        };
        serde_json::from_slice(&bytes)
            .map_err(|e| HostError::Protocol(format!("db_query2 result is not valid JSON: {e}")))
    }

    #[inline]
    fn db_exec(&self, sql: &str, params: &[Value]) -> Result<u64, HostError> {
        let params = params_json(params);
        let (sp, sl) = pair(sql.as_bytes());
        let (pp, pl) = pair(&params);
        let mut rows = [0u8; 8];
        let mut err = OutPair::default();
        let (ep, el) = err.ptrs();
        // SAFETY: all pointers reference live buffers; `rows` has the 8 bytes the host writes.
        unsafe { raw::db_exec(sp, sl, pp, pl, addr(rows.as_mut_ptr()), ep, el) };
        if let Some(e) = err.take_string() {
            return Err(HostError::Db(e));
        }
        Ok(u64::from_le_bytes(rows))
    }

    #[inline]
    fn config(&self, key: &str) -> Option<String> {
        if key.is_empty() {
            return None;
        }
        let (kp, kl) = pair(key.as_bytes());
        let mut val = OutPair::default();
        let (vp, vl) = val.ptrs();
        // SAFETY: live buffers of the stated lengths.
        unsafe { raw::config_get(kp, kl, vp, vl) };
        let v = String::from_utf8(val.take()?).ok()?;
        (!v.is_empty()).then_some(v)
    }

    #[inline]
    fn fetch(&self, req: &FetchRequest) -> Result<FetchResponse, HostError> {
        let body = serde_json::to_vec(req)
            .map_err(|e| HostError::Protocol(format!("cannot encode fetch request: {e}")))?;
        let (qp, ql) = pair(&body);
        let mut res = OutPair::default();
        let (rp, rl) = res.ptrs();
        // SAFETY: live buffers of the stated lengths.
        unsafe { raw::fetch(qp, ql, rp, rl) };
        let bytes = res
            .take()
            .ok_or_else(|| HostError::Protocol("empty response from host".into()))?;
        FetchResponse::from_host_json(&bytes)
    }

    #[inline]
    fn emit(&self, topic: &str, payload: &Value) -> Result<(), HostError> {
        let body = serde_json::to_vec(payload)
            .map_err(|e| HostError::Protocol(format!("cannot encode event payload: {e}")))?;
        let (tp, tl) = pair(topic.as_bytes());
        let (pp, pl) = pair(&body);
        // SAFETY: live buffers of the stated lengths.
        let ok = unsafe { raw::event_emit(tp, tl, pp, pl) };
        if ok == 0 {
            return Err(HostError::Emit(format!("host failed to publish {topic}")));
        }
        Ok(())
    }

    #[inline]
    fn activity(
        &self,
        task_id: &str,
        activity_type: &str,
        content: &Value,
    ) -> Result<(), HostError> {
        let body = serde_json::json!({
            "task_id": task_id, "activity_type": activity_type, "content": content,
        })
        .to_string();
        let (pp, pl) = pair(body.as_bytes());
        // SAFETY: live buffer of the stated length.
        let ok = unsafe { raw::activity_record(pp, pl) };
        if ok == 0 {
            return Err(HostError::Activity(format!(
                "host did not record {activity_type}"
            )));
        }
        Ok(())
    }

    #[inline]
    fn log(&self, level: LogLevel, message: &str) {
        if message.is_empty() {
            return;
        }
        let (mp, ml) = pair(message.as_bytes());
        // SAFETY: live buffer of the stated length.
        unsafe { raw::paca_log(level.as_i32(), mp, ml) };
    }
}
