//! Relay tests on a real projection of the reference module's tables, without Node: a harness that
//! applies transactions the way the session does (sinks under the projection's write lock), an SSE parser
//! and a client model that rebuilds each stream's state from its frames.

mod authorization;
mod behaviour;
mod harness;
mod isolation;
mod occurrences;
mod replicas;
mod revocations;
mod seam;
mod snapshots;
