//! Durable storage: where a checkpoint's bytes go, and how they get there
//! atomically. A directory (the save protocol of [`store`], its flock
//! [`lock`]), a bucket of an object store (`bucket`, with the
//! `object-store` feature), and the [`backend`] that hides which.
//! Imports only from the bytes layer and the bottom.

pub(crate) mod backend;
#[cfg(feature = "object-store")]
pub(crate) mod bucket;
pub(crate) mod commit;
pub(crate) mod group;
pub(crate) mod lock;
pub(crate) mod store;
