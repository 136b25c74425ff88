//! Bytes: what a checkpoint file contains and how it is encoded, with no
//! I/O. The format (header, checksums, limits), the compression, the
//! canonical encoding that types and keys are fingerprinted with, and the
//! run's identity. Imports only from the bottom (errors, messages).

pub(crate) mod canonical;
pub(crate) mod compress;
pub(crate) mod decode;
pub(crate) mod format;
pub(crate) mod identity;
pub(crate) mod prefault;
