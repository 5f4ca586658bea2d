//! Whole-system calls used by `init`: mounts, hostname, reboot, credentials, killing everything.

use crate::{cstr, cvt, Result};
use std::path::Path;

/// `mount(source, target, fstype, flags, data)`.
pub fn mount(source: &str, target: &Path, fstype: &str, flags: u64, data: Option<&str>) -> Result<()> {
    let s = cstr(source)?;
    let t = cstr(target)?;
    let f = cstr(fstype)?;
    let d = data.map(cstr).transpose()?;
    // SAFETY: every pointer is a valid C string (or null for data) for the call's duration.
    cvt(unsafe {
        libc::mount(
            s.as_ptr(),
            t.as_ptr(),
            f.as_ptr(),
            flags as libc::c_ulong,
            d.as_ref().map_or(std::ptr::null(), |d| d.as_ptr().cast()),
        )
    })
    .map(drop)
}

/// Remounts `target` read-only.
pub fn remount_readonly(target: &Path) -> Result<()> {
    mount("none", target, "", libc::MS_REMOUNT | libc::MS_RDONLY, None)
}

/// `umount2(target, flags)`; `detach` = MNT_DETACH.
pub fn umount(target: &Path, detach: bool) -> Result<()> {
    let t = cstr(target)?;
    let flags = if detach { libc::MNT_DETACH } else { 0 };
    // SAFETY: valid C string.
    cvt(unsafe { libc::umount2(t.as_ptr(), flags) }).map(drop)
}

/// The raw contents of `/proc/self/mountinfo` (bytes: mount points need not be UTF-8; parse
/// them with `merit_core::mountinfo`). Empty when /proc is not mounted.
pub fn mountinfo() -> Vec<u8> {
    std::fs::read("/proc/self/mountinfo").unwrap_or_default()
}

pub fn sethostname(name: &[u8]) -> Result<()> {
    // SAFETY: name is valid for name.len() bytes.
    cvt(unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) }).map(drop)
}

/// What `reboot(2)` should do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RebootAction {
    Halt,
    Poweroff,
    Reboot,
}

/// `reboot(2)`. Returns only on failure. In a PID namespace it ends the namespace's init.
pub fn reboot(action: RebootAction) -> crate::Error {
    let cmd = match action {
        RebootAction::Halt => libc::RB_HALT_SYSTEM,
        RebootAction::Poweroff => libc::RB_POWER_OFF,
        RebootAction::Reboot => libc::RB_AUTOBOOT,
    };
    // SAFETY: plain integer argument.
    unsafe { libc::reboot(cmd) };
    crate::Error::last_os_error()
}

pub fn sync() {
    // SAFETY: no arguments.
    unsafe { libc::sync() };
}

/// `kill(-1, sig)`: every process we may signal except ourselves (and, for PID 1, only
/// within its namespace).
pub fn kill_all(sig: i32) -> Result<()> {
    // SAFETY: plain integers.
    cvt(unsafe { libc::kill(-1, sig) }).map(drop)
}

/// Drops to `uid`/`gid` with supplementary groups `groups` (setgroups, setgid, setuid).
pub fn set_credentials(uid: u32, gid: u32, groups: &[u32]) -> Result<()> {
    // SAFETY: groups is valid for groups.len() gid_t values.
    cvt(unsafe { libc::setgroups(groups.len(), groups.as_ptr()) })?;
    // SAFETY: plain integers.
    cvt(unsafe { libc::setgid(gid) })?;
    // SAFETY: plain integers.
    cvt(unsafe { libc::setuid(uid) }).map(drop)
}

/// Are we told that we run in a container? (`container` in the environment, as
/// systemd-nspawn, podman and LXC set it; Docker's `/.dockerenv`; podman's `/run/.containerenv`.)
/// The files are looked for under `root`, the root of the system being booted: a system
/// booted in a folder is not a container because the host happens to be one.
pub fn in_container(root: &Path) -> bool {
    let under = |p: &str| {
        if root.as_os_str().is_empty() {
            Path::new(p).to_path_buf()
        } else {
            root.join(p.trim_start_matches('/'))
        }
    };
    std::env::var_os("container").is_some() || under("/.dockerenv").exists() || under("/run/.containerenv").exists()
}

pub use libc::{MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RELATIME};

/// Raises the soft limit on open descriptors to the hard limit. A crash handler calls this
/// before exec'ing its script: when the crash was caused by a lowered limit (`EMFILE`, or
/// `poll` refusing more descriptors than `RLIMIT_NOFILE`), even the dynamic loader of the
/// script's interpreter could not open its libraries otherwise.
pub fn raise_nofile_limit() -> Result<()> {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: r is a valid rlimit to fill.
    cvt(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) })?;
    if r.rlim_cur >= r.rlim_max {
        return Ok(());
    }
    r.rlim_cur = r.rlim_max;
    // SAFETY: r is a valid rlimit.
    cvt(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) }).map(drop)
}

/// The soft limit on open descriptors.
pub fn nofile_limit() -> Result<u64> {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: r is a valid rlimit to fill.
    cvt(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) })?;
    Ok(r.rlim_cur)
}

/// A resource whose limits [`getrlimit`], [`setrlimit`] and [`prlimit`] read or set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// `RLIMIT_NOFILE`: open descriptors.
    Nofile,
    /// `RLIMIT_NPROC`: processes of the real user.
    Nproc,
}

macro_rules! rlimit_resource {
    ($r:expr) => {
        match $r {
            Resource::Nofile => libc::RLIMIT_NOFILE,
            Resource::Nproc => libc::RLIMIT_NPROC,
        }
    };
}

/// `getrlimit(resource)`: (soft, hard) limits of this process.
pub fn getrlimit(resource: Resource) -> Result<(u64, u64)> {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: r is a valid rlimit to fill.
    cvt(unsafe { libc::getrlimit(rlimit_resource!(resource), &mut r) })?;
    Ok((r.rlim_cur, r.rlim_max))
}

/// `setrlimit(resource, soft, hard)` on this process. Async-signal-safe: a child may call it
/// between fork and exec. Raising the hard limit needs CAP_SYS_RESOURCE.
pub fn setrlimit(resource: Resource, soft: u64, hard: u64) -> Result<()> {
    let r = libc::rlimit { rlim_cur: soft, rlim_max: hard };
    // SAFETY: r is a valid rlimit.
    cvt(unsafe { libc::setrlimit(rlimit_resource!(resource), &r) }).map(drop)
}

/// `prlimit(pid, resource, soft, hard)`: sets the limits of another process (0: this one).
pub fn prlimit(pid: i32, resource: Resource, soft: u64, hard: u64) -> Result<()> {
    let r = libc::rlimit { rlim_cur: soft, rlim_max: hard };
    // SAFETY: r is a valid rlimit; a null old-limit pointer asks for nothing back.
    cvt(unsafe { libc::prlimit(pid, rlimit_resource!(resource), &r, std::ptr::null_mut()) }).map(drop)
}

/// Makes Ctrl-Alt-Del send SIGINT to PID 1 instead of rebooting at once
/// (`reboot(LINUX_REBOOT_CMD_CAD_OFF)`); PID 1 then reboots in order.
pub fn ctrl_alt_del_to_sigint() -> Result<()> {
    // SAFETY: plain integer argument; only changes the kernel's Ctrl-Alt-Del policy.
    cvt(unsafe { libc::reboot(libc::RB_DISABLE_CAD) }).map(drop)
}

/// Whether this process has any child left, dead or alive (`waitid(P_ALL, WNOWAIT|WNOHANG)`:
/// nothing is reaped).
pub fn has_children() -> bool {
    // SAFETY: siginfo_t is plain data.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: info is valid for writing; WNOWAIT leaves any dead child to be reaped later.
    let r = unsafe { libc::waitid(libc::P_ALL, 0, &mut info, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT) };
    !(r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD))
}

/// Empties the environment (`clearenv`). Unlike removing the variables one by one through
/// `std::env`, it copes with any entry a kernel or a container runtime may hand to PID 1: one
/// whose name contains `=` or is empty (`=foo=bar`), one without `=` at all.
pub fn clear_env() {
    // SAFETY: clearenv only resets the process's environ pointer; the caller (init's stage 1)
    // runs a single thread, so no other thread reads the environment meanwhile.
    unsafe { libc::clearenv() };
}

/// Whether `fd` is a terminal.
pub fn isatty(fd: i32) -> bool {
    // SAFETY: plain integer argument.
    unsafe { libc::isatty(fd) == 1 }
}

/// The number of threads of this process (`Threads:` of /proc/self/status), if known.
fn thread_count() -> Option<u64> {
    let status = std::fs::read("/proc/self/status").ok()?;
    let line = status.split(|&b| b == b'\n').find(|l| l.starts_with(b"Threads:"))?;
    std::str::from_utf8(line.get(8..)?).ok()?.trim().parse().ok()
}

/// `fork()`, for a process that runs a single thread: `Ok(0)` in the child (which may then run
/// ordinary code: no other thread can have held a lock at the fork), the child's pid in the
/// parent. Refused (`Unsupported`) when the process runs more than one thread, or when that
/// cannot be checked (no /proc).
pub fn fork_single_threaded() -> Result<i32> {
    if thread_count() != Some(1) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "fork refused: not known to be single-threaded",
        ));
    }
    // SAFETY: the process runs one thread (checked above; the thread count cannot grow
    // between the check and the fork without this very thread creating one), so the child
    // inherits no lock held by another thread and may use the allocator and std freely.
    cvt(unsafe { libc::fork() })
}

/// Marks every descriptor from `first` up close-on-exec (`close_range(first, ~0,
/// CLOSE_RANGE_CLOEXEC)`, else one by one from /proc/self/fd): what an init inherited from
/// whoever started it (a test harness, a container runtime) must not reach what it starts.
pub fn cloexec_from(first: i32) {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: plain integer arguments; only descriptor flags change.
    let r =
        unsafe { libc::syscall(libc::SYS_close_range, first as libc::c_uint, libc::c_uint::MAX, CLOSE_RANGE_CLOEXEC) };
    if r == 0 {
        return;
    }
    let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map(|rd| rd.flatten().filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok())).collect())
        .unwrap_or_default();
    for fd in fds.into_iter().filter(|&fd| fd >= first) {
        let _ = crate::fd::set_cloexec(fd, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rlimits_read_and_set() {
        let (soft, hard) = getrlimit(Resource::Nofile).unwrap();
        assert!(soft <= hard);
        assert_eq!(nofile_limit().unwrap(), soft);
        // A child of ours lowers its own soft limit, then we lower and restore another's.
        let mut cmd = std::process::Command::new("sleep");
        cmd.arg("5");
        let low = soft.min(64);
        // SAFETY: setrlimit only, async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || setrlimit(Resource::Nofile, low, hard));
        }
        let mut child = cmd.spawn().unwrap();
        let limits = |pid: u32| {
            let l = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
            let line = l.lines().find(|l| l.starts_with("Max open files")).unwrap().to_owned();
            line.split_whitespace().nth(3).unwrap().parse::<u64>().unwrap()
        };
        let seen = limits(child.id());
        let r = prlimit(child.id() as i32, Resource::Nofile, low - 1, hard);
        let seen_after = limits(child.id());
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(seen, low);
        r.unwrap();
        assert_eq!(seen_after, low - 1);
        assert_eq!(getrlimit(Resource::Nofile).unwrap(), (soft, hard), "ours unchanged");
        assert!(getrlimit(Resource::Nproc).is_ok());
    }
}
