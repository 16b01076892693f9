//! A router builder that remembers every `(method, path)` it serves, so a control API's
//! OpenAPI document can be checked against the routes that really exist: a route added here
//! without a `#[utoipa::path]` fails that test. Devhost builds its own control API with it.

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, on};

/// A [`Router`] under construction plus the list of what it serves.
pub struct ServedRoutes<S> {
    router: Router<S>,
    served: Vec<(&'static str, &'static str)>,
}

impl<S: Clone + Send + Sync + 'static> Default for ServedRoutes<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Clone + Send + Sync + 'static> ServedRoutes<S> {
    pub fn new() -> Self {
        ServedRoutes {
            router: Router::new(),
            served: Vec::new(),
        }
    }

    pub fn get<H: Handler<T, S>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.on("get", MethodFilter::GET, path, h)
    }

    pub fn post<H: Handler<T, S>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.on("post", MethodFilter::POST, path, h)
    }

    pub fn delete<H: Handler<T, S>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.on("delete", MethodFilter::DELETE, path, h)
    }

    fn on<H: Handler<T, S>, T: 'static>(
        mut self,
        method: &'static str,
        filter: MethodFilter,
        path: &'static str,
        h: H,
    ) -> Self {
        // axum merges method routers registered for the same path
        self.router = self.router.route(path, on(filter, h));
        self.served.push((method, path));
        self
    }

    /// `(lower-case method, axum path)` for every route, in registration order.
    pub fn served(&self) -> Vec<(&'static str, &'static str)> {
        self.served.clone()
    }

    pub fn into_router(self) -> Router<S> {
        self.router
    }
}
