//! A minimal Paca plugin on the SDK: `GET notes` lists the rows of a `notes` table and
//! `POST notes` adds one; every other request is Paca's 404. No `unsafe`, no GitHub.
//!
//! ```text
//! cargo build -p paca-plugin-sdk --example notes --target wasm32-wasip1 --release
//! ```
//! gives `target/wasm32-wasip1/release/examples/notes.wasm`, a reactor module with the exports
//! the Paca host calls. The plugin would ship a migration such as
//! `CREATE TABLE notes (id UUID PRIMARY KEY DEFAULT gen_random_uuid(), body TEXT NOT NULL)`.

use paca_plugin_sdk::db::{DecodeError, FromRow, RowRef, to_host_params};
use paca_plugin_sdk::router::{self, Route, Seg};
use paca_plugin_sdk::{Host, LogLevel, Request, Response};
use sea_query::{Iden, PostgresQueryBuilder, Query};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy)]
enum Op {
    ListNotes,
    AddNote,
}

const ROUTES: &[Route<Op>] = &[
    Route {
        op: Op::ListNotes,
        method: "GET",
        segs: &[Seg::Lit("notes")],
    },
    Route {
        op: Op::AddNote,
        method: "POST",
        segs: &[Seg::Lit("notes")],
    },
];

#[derive(Iden, Clone, Copy)]
enum Notes {
    Table,
    Id,
    Body,
}

#[derive(Serialize)]
struct Note {
    id: uuid::Uuid,
    body: String,
}

impl FromRow for Note {
    fn from_row(row: &RowRef<'_>) -> Result<Self, DecodeError> {
        Ok(Note {
            id: row.get("id")?,
            body: row.get("body")?,
        })
    }
}

#[derive(Deserialize)]
struct NewNote {
    body: String,
}

fn internal<H: Host>(host: &H, detail: impl std::fmt::Display) -> Response {
    host.log(LogLevel::Error, &format!("notes: {detail}"));
    router::error_response(500, "INTERNAL_ERROR", "internal error")
}

fn list<H: Host>(host: &H) -> Response {
    let (sql, values) = Query::select()
        .columns([Notes::Id, Notes::Body])
        .from(Notes::Table)
        .build(PostgresQueryBuilder);
    let notes = host
        .db_query(&sql, &to_host_params(&values))
        .map_err(|e| e.to_string())
        .and_then(|r| r.decode::<Note>().map_err(|e| e.to_string()));
    match notes {
        Ok(notes) => {
            router::success_response(200, &notes).unwrap_or_else(|| internal(host, "encode"))
        }
        Err(e) => internal(host, e),
    }
}

fn add<H: Host>(host: &H, req: &Request) -> Response {
    let new: NewNote = match router::json_body(req) {
        Ok(new) => new,
        Err(message) => return router::error_response(400, "BAD_REQUEST", &message),
    };
    let (sql, values) = Query::insert()
        .into_table(Notes::Table)
        .columns([Notes::Body])
        .values_panic([new.body.into()])
        .returning(Query::returning().columns([Notes::Id, Notes::Body]))
        .build(PostgresQueryBuilder);
    let note = host
        .db_query(&sql, &to_host_params(&values))
        .map_err(|e| e.to_string())
        .and_then(|r| r.decode_one::<Note>().map_err(|e| e.to_string()));
    match note {
        Ok(Some(note)) => {
            router::success_response(201, &note).unwrap_or_else(|| internal(host, "encode"))
        }
        Ok(None) => internal(host, "INSERT … RETURNING gave no row"),
        Err(e) => internal(host, e),
    }
}

/// The request entry point [`paca_plugin_sdk::export_plugin!`] wires to `HandleRequest`.
pub fn handle_request<H: Host>(host: &H, req: Request) -> Response {
    match router::route_in(ROUTES, &req.method, &req.path) {
        Some((Op::ListNotes, _)) => list(host),
        Some((Op::AddNote, _)) => add(host, &req),
        None => router::error_response(404, "ROUTE_NOT_FOUND", "route not found"),
    }
}

/// The event entry point: this plugin subscribes to nothing, so it only logs.
pub fn handle_event<H: Host>(host: &H, topic: &str, _payload: &[u8]) {
    host.log(LogLevel::Debug, &format!("notes: ignoring event {topic}"));
}

paca_plugin_sdk::export_plugin!(handle_request, handle_event);
