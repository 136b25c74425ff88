//! Multi-rank runs of `examples/heat.rs` under `mpirun` (feature `mpi`).
