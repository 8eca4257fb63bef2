//! Starting a file's write-back to the disk early, so that the `fsync` that makes it durable
//! later has less to wait for: a file sink's data file is written when its rows are emitted,
//! its write-back started, and fsynced at the batch's end (`sink/files.rs`'s `PendingFile`).
//! (A checkpoint's commit prepared the same way, before the sink's wait, measured no gain on
//! this project's machines: the disk's throughput, not its latency, bounds the two fsyncs, so
//! the sink's wait grew by what the commit's shrank; not kept.)

use std::fs::File;

/// Asks the kernel to start writing `f`'s dirty pages to the disk now, without waiting
/// (Linux: `sync_file_range(SYNC_FILE_RANGE_WRITE)`; elsewhere nothing). A hint: a failure is
/// the later `fsync`'s to report.
pub(crate) fn start(f: &File) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: the descriptor is `f`'s, open for the call; the range 0..0 means the whole
        // file; the call only schedules write-back.
        unsafe {
            libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = f;
}
