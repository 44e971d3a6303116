//! The embedded backend: the conformance suite, crash recovery, group commit, flushing
//! and a full disk. One binary for the crate.

mod conformance;
mod crash;
mod disk_full;
mod flush;
mod group_commit;
mod large_blobs;
