//! Where the relay reads the projection from: the session's (in the gateway, which implements this trait
//! for it) or a plain locked one (tests).
//!
//! The relay's consistency rests on one rule: change sinks run while the projection is write-locked, so
//! whoever holds the read lock sees a projection that reflects exactly the events the relay has logged.

use std::sync::RwLock;

use crate::projection::Projection;

/// Read access to a projection whose writers notify the relay under the write lock.
pub trait ProjectionSource: Send + Sync {
    /// Runs `f` with the projection read-locked.
    fn read(&self, f: &mut dyn FnMut(&Projection));
}

impl ProjectionSource for RwLock<Projection> {
    fn read(&self, f: &mut dyn FnMut(&Projection)) {
        f(&self.read().unwrap())
    }
}
