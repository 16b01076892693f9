//! A pool of plugin instances serving concurrently, like several Paca API replicas (or one
//! replica per instance) on one database: each instance has its own store and memory and
//! serializes its own calls; different instances run in parallel.
//!
//! A call takes the free instance with the lowest index, so sequential traffic always runs
//! on instance 0 (tests that read one instance's globals stay deterministic) and a second
//! concurrent call runs on instance 1 instead of queueing behind the first.

use crate::runtime::{CallError, Plugin, RequestCtx};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

pub struct PluginPool {
    instances: Vec<Arc<Plugin>>,
    free: Mutex<Vec<bool>>,
    available: Semaphore,
}

/// An instance taken from the pool; returned on drop.
struct Lease<'a> {
    pool: &'a PluginPool,
    index: usize,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.pool.free.lock().unwrap_or_else(|p| p.into_inner())[self.index] = true;
        self.pool.available.add_permits(1);
    }
}

impl PluginPool {
    /// A pool over already-loaded instances (at least one).
    pub fn new(instances: Vec<Arc<Plugin>>) -> PluginPool {
        assert!(!instances.is_empty(), "a pool needs at least one instance");
        let n = instances.len();
        PluginPool {
            instances,
            free: Mutex::new(vec![true; n]),
            available: Semaphore::new(n),
        }
    }

    /// The instances, in index order.
    pub fn instances(&self) -> &[Arc<Plugin>] {
        &self.instances
    }

    pub fn len(&self) -> usize {
        self.instances.len()
    }

    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }

    async fn lease(&self) -> Lease<'_> {
        let permit = self
            .available
            .acquire()
            .await
            .expect("pool semaphore is never closed");
        permit.forget(); // given back by Lease::drop
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        let index = free
            .iter()
            .position(|f| *f)
            .expect("a permit guarantees a free instance");
        free[index] = false;
        Lease { pool: self, index }
    }

    /// [`Plugin::call_export`] on a free instance.
    pub async fn call_export(
        &self,
        name: &str,
        payload: Vec<u8>,
        request: Option<Arc<RequestCtx>>,
    ) -> Result<Vec<u8>, CallError> {
        let lease = self.lease().await;
        self.instances[lease.index]
            .call_export(name, payload, request)
            .await
    }

    /// [`Plugin::dispatch_event`] on a free instance.
    pub async fn dispatch_event(&self, topic: &str, payload: Vec<u8>) -> bool {
        let lease = self.lease().await;
        self.instances[lease.index]
            .dispatch_event(topic, payload)
            .await
    }

    /// `Shutdown` on every instance (blocking).
    pub fn shutdown_blocking(&self) {
        for p in &self.instances {
            p.shutdown_blocking();
        }
    }
}
