//! A router builder that remembers every `(method, path)` it serves, so the control API's
//! OpenAPI document can be checked against the routes that really exist: a route added here
//! without a `#[utoipa::path]` fails that test.

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, on};

/// A [`Router`] under construction plus the list of what it serves.
pub(crate) struct ServedRoutes<S> {
    router: Router<S>,
    served: Vec<(&'static str, &'static str)>,
}

impl<S: Clone + Send + Sync + 'static> ServedRoutes<S> {
    pub(crate) fn new() -> Self {
        ServedRoutes {
            router: Router::new(),
            served: Vec::new(),
        }
    }

    pub(crate) fn get<H: Handler<T, S>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.on("get", MethodFilter::GET, path, h)
    }

    pub(crate) fn post<H: Handler<T, S>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.on("post", MethodFilter::POST, path, h)
    }

    pub(crate) fn delete<H: Handler<T, S>, T: 'static>(self, path: &'static str, h: H) -> Self {
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
    pub(crate) fn served(&self) -> Vec<(&'static str, &'static str)> {
        self.served.clone()
    }

    pub(crate) fn into_router(self) -> Router<S> {
        self.router
    }
}
