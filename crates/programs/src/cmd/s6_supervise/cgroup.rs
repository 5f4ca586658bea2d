//! A cgroup (v2) per service (issue 13), opt-in by a file in the service directory: an empty
//! `cgroup` file, or any limit file (`memory-max`, `memory-high`, `pids-max`, `cpu-max`,
//! `cpu-weight`, `io-weight`). Read once at start-up; a service without them pays one failed
//! stat per file there and nothing in its loop (`Driver::cgroup` stays `None`).
//!
//! - The cgroup is `MOUNT/BASE/NAME`: MOUNT the cgroup2 hierarchy (`/sys/fs/cgroup`, or
//!   `/sys/fs/cgroup/unified` on hybrid hosts), BASE `merit` or the relative path in the
//!   environment variable `MERIT_CGROUP_BASE` (inherited from the scanner), NAME the service
//!   directory's name (`NAME.log` for a logger `NAME/log`).
//! - `run` and `finish` join it in the child, before anything else (`Spawn::cgroup_procs`).
//! - Once the service is down (`run` dead and `finish` over: the `D` event), every process left
//!   in the cgroup is killed (`cgroup.kill`, or rounds of SIGKILL, waiting at most 200 ms) and
//!   the count is kept in `supervise/merit-state` (`service NAME status` shows it).
//! - Limit files are written to their interface files at start-up; a value the kernel refuses
//!   is warned with the file and the value, and the service runs without that limit.
//! - Without a writable cgroup2 hierarchy (v1 only, none, read-only in a container) the
//!   supervisor warns once and runs the service as s6 does.

use super::config::Diag;
use super::Driver;
use merit_sys::cgroup::{self, LIMIT_CONTROLLERS, LIMIT_FILES};
use merit_sys::{fd, strerror};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

/// How long the supervisor waits for the left-over processes to die (it must keep answering).
const KILL_WAIT_MS: u64 = 200;

/// The cgroup of a service that has one.
pub(super) struct Cgroup {
    dir: PathBuf,
    /// `cgroup.procs` of `dir`, open for writing, for the children to join.
    procs: OwnedFd,
}

fn exists(name: &str) -> bool {
    std::fs::symlink_metadata(name).is_ok()
}

/// The cgroup's name: the service directory's name, `NAME.log` for a logger.
fn service_name() -> Option<String> {
    let cwd = std::env::current_dir().ok()?;
    let base = cwd.file_name()?.to_string_lossy().into_owned();
    if base == "log" {
        let parent = cwd.parent()?.file_name()?.to_string_lossy().into_owned();
        return Some(format!("{parent}.log"));
    }
    Some(base)
}

/// `MERIT_CGROUP_BASE`: a relative path without `..` (default `merit`).
fn base_dir(diag: &Diag) -> Option<PathBuf> {
    let Some(v) = std::env::var_os("MERIT_CGROUP_BASE") else { return Some(PathBuf::from("merit")) };
    let p = PathBuf::from(v);
    if p.as_os_str().is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        diag.warn(&format!(
            "MERIT_CGROUP_BASE={} is not a relative path below the cgroup hierarchy: running the service without its own cgroup",
            p.display()
        ));
        return None;
    }
    Some(p)
}

/// Sets up the service's cgroup when the service directory asks for one.
// Out of the supervisor's loop: its frame (a 4 KiB buffer, say) must not grow the loop's.
#[inline(never)]
pub(super) fn load(diag: &Diag) -> Option<Box<Cgroup>> {
    if !exists("cgroup") && !LIMIT_FILES.iter().any(|(f, _)| exists(f)) {
        return None;
    }
    let without = |why: &str| {
        diag.warn(&format!("{why}: running the service without its own cgroup"));
        None
    };
    let mount = match cgroup::find(Path::new("/")) {
        Ok(m) => m,
        Err(e) => return without(&format!("no usable cgroup2 hierarchy ({e})")),
    };
    let base = base_dir(diag)?;
    let name = service_name()?;
    // Each level below the mount: created, and the controllers enabled for its children (a
    // controller the hierarchy does not offer is skipped; a limit that needs it is warned).
    let mut parent = mount.clone();
    let _ = cgroup::enable_controllers(&parent, &LIMIT_CONTROLLERS);
    for c in base.components() {
        parent = parent.join(c);
        if let Err(e) = cgroup::create(&parent) {
            return without(&format!("unable to create the cgroup {}: {}", parent.display(), strerror(&e)));
        }
        let _ = cgroup::enable_controllers(&parent, &LIMIT_CONTROLLERS);
    }
    let dir = parent.join(name);
    if let Err(e) = cgroup::create(&dir) {
        return without(&format!("unable to create the cgroup {}: {}", dir.display(), strerror(&e)));
    }
    let procs = match fd::open(&dir.join("cgroup.procs"), merit_sys::flags::O_WRONLY | merit_sys::flags::O_CLOEXEC, 0) {
        Ok(f) => f,
        Err(e) => return without(&format!("unable to open {}/cgroup.procs: {}", dir.display(), strerror(&e))),
    };
    for (file, iface) in LIMIT_FILES {
        let Ok(content) = std::fs::read(file) else { continue };
        if let Err(e) = cgroup::write_limit(&dir, file, &content) {
            let value = String::from_utf8_lossy(content.split(|&b| b == b'\n').next().unwrap_or_default());
            diag.warn(&format!(
                "unable to set {file} to \"{}\" ({}/{iface}): {}; the service runs without this limit",
                value.trim_end(),
                dir.display(),
                strerror(&e)
            ));
        }
    }
    Some(Box::new(Cgroup { dir, procs }))
}

impl Driver {
    /// The descriptor the children write to, to join the service's cgroup.
    pub(super) fn cgroup_procs_fd(&self) -> Option<i32> {
        self.cgroup.as_ref().map(|c| c.procs.as_raw_fd())
    }

    /// The service is down (`run` dead, `finish` over): kills what is left in its cgroup.
    // Out of the supervisor's loop: its frame (a 4 KiB buffer, say) must not grow the loop's.
    #[inline(never)]
    pub(super) fn cgroup_after_down(&mut self) {
        let Some(c) = &self.cgroup else { return };
        match cgroup::kill_all(&c.dir, KILL_WAIT_MS) {
            Ok(k) => {
                if k.found > 0 {
                    self.diag.warn(&format!("killed {} processes left in the cgroup {}", k.found, c.dir.display()));
                }
                if k.left > 0 {
                    self.diag.warn(&format!("{} processes still in the cgroup {}", k.left, c.dir.display()));
                }
                self.merit.cgroup_left = Some(k.found as u32);
            }
            Err(e) => self.diag.warn_err(&format!("unable to empty the cgroup {}", c.dir.display()), &e),
        }
        self.write_merit_state();
    }

    /// The cgroup's path for merit-state.
    pub(super) fn cgroup_path(&self) -> Option<String> {
        self.cgroup.as_ref().map(|c| c.dir.to_string_lossy().into_owned())
    }
}
