//! JS bindings of the auth part (see crate::auth).
