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
    mount("none", target, "", (libc::MS_REMOUNT | libc::MS_RDONLY) as u64, None)
}

/// `umount2(target, flags)`; `detach` = MNT_DETACH.
pub fn umount(target: &Path, detach: bool) -> Result<()> {
    let t = cstr(target)?;
    let flags = if detach { libc::MNT_DETACH } else { 0 };
    // SAFETY: valid C string.
    cvt(unsafe { libc::umount2(t.as_ptr(), flags) }).map(drop)
}

/// Mount points (from /proc/self/mountinfo), in mount order, octal escapes decoded.
pub fn mount_points() -> Vec<std::path::PathBuf> {
    let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") else { return Vec::new() };
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| {
            let b = p.as_bytes();
            let mut out = Vec::with_capacity(b.len());
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'\\' && i + 3 < b.len() {
                    if let Ok(v) = u8::from_str_radix(&p[i + 1..i + 4], 8) {
                        out.push(v);
                        i += 4;
                        continue;
                    }
                }
                out.push(b[i]);
                i += 1;
            }
            use std::os::unix::ffi::OsStringExt;
            std::path::PathBuf::from(std::ffi::OsString::from_vec(out))
        })
        .collect()
}

/// Whether `p` is a mount point.
pub fn is_mount_point(p: &Path) -> bool {
    let Ok(canon) = p.canonicalize() else { return false };
    mount_points().iter().any(|m| *m == canon)
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

/// `chmod` without umask interference.
pub fn chmod(p: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
}

/// Are we told that we run in a container? (`container` in the environment, as
/// systemd-nspawn, podman and LXC set it; Docker's `/.dockerenv`; podman's `/run/.containerenv`.)
/// The files are looked for under `root`, the root of the system being booted: a system
/// booted in a folder is not a container because the host happens to be one.
pub fn in_container(root: &Path) -> bool {
    let under = |p: &str| if root.as_os_str().is_empty() { Path::new(p).to_path_buf() } else { root.join(p.trim_start_matches('/')) };
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
    Ok(r.rlim_cur as u64)
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
