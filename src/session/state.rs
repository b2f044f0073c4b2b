//! The connection state of a session, as users see it.

use std::time::{SystemTime, UNIX_EPOCH};

/// `connecting → live ⇄ reconnecting → closed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Connecting,
    Live,
    Reconnecting,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Connecting => "connecting",
            Status::Live => "live",
            Status::Reconnecting => "reconnecting",
            Status::Closed => "closed",
        }
    }
}

/// A state and why the session is in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionState {
    pub status: Status,
    /// Why the state changed (e.g. "the server closed the connection", "token refreshed").
    pub reason: Option<String>,
    /// Reconnect attempts since the connection was lost (0 when live).
    pub attempt: u32,
    /// When the state began, ms since the Unix epoch.
    pub since_ms: u64,
}

impl SessionState {
    pub fn new(status: Status, reason: Option<String>, attempt: u32) -> Self {
        let since_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        SessionState { status, reason, attempt, since_ms }
    }

    /// `{"status","reason"?,"attempt","since"}` for the JS surface.
    pub fn to_json(&self) -> String {
        let mut v =
            serde_json::json!({ "status": self.status.as_str(), "attempt": self.attempt, "since": self.since_ms });
        if let Some(reason) = &self.reason {
            v["reason"] = serde_json::Value::String(reason.clone());
        }
        v.to_string()
    }
}

/// An observer of state changes (the JS `onState` listeners). Called on the session task; must not block.
pub trait StateSink: Send + Sync {
    fn on_state(&self, state: &SessionState);
}
