//! Facts about this process and the machine it runs on, read from the
//! environment: at the bottom of the layers, so any of them may ask.

use std::fs;

/// Whether an environment flag is set to a true value (`1`, `true`, `yes`, `on`).
pub(crate) fn env_flag(name: &str) -> bool {
    match std::env::var(name) {
        Ok(value) => matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        ),
        Err(_) => false,
    }
}

/// Whether process `pid` of this machine has exited: no such process, or
/// a zombie that only waits for its parent to collect its status (a killed
/// MPI rank whose launcher was killed too, say); it holds nothing any more.
#[cfg(feature = "object-store")]
pub(crate) fn has_exited(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which may hold anything but
        // ends at the last `)`.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
        Err(_) => true,
    }
}

/// This process's rank and the size of the MPI job (or `srun` step) that
/// started it, as the launchers say in the environment: Open MPI, MPICH
/// and Intel MPI (PMI), MVAPICH, SLURM. `None` outside such a job.
pub(crate) fn mpi_job() -> Option<(u64, u64)> {
    let number = |name: &str| std::env::var(name).ok()?.trim().parse::<u64>().ok();
    [
        ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
        ("PMI_RANK", "PMI_SIZE"),
        ("MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE"),
        ("SLURM_PROCID", "SLURM_NTASKS"),
    ]
    .into_iter()
    .find_map(|(rank, size)| Some((number(rank)?, number(size)?)))
}

/// This machine's name, or "" if unknown. Read from files rather than
/// gethostname(2) to avoid a libc dependency for one informational field.
pub(crate) fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| fs::read_to_string(p).ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}
