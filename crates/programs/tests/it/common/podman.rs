//! podman for the tests (init_podman.rs, package.rs): rootful, `runc` (crun refuses
//! the hybrid cgroups where CI runs), with its storage, run state and configuration under the
//! test's temp folder (`--root`, `--runroot`, `--tmpdir`, CONTAINERS_CONF written here:
//! `default_ulimits = []`, since raising RLIMIT_NOFILE may not be allowed where the tests run).
//! The containers and the image are removed on drop, and what podman left mounted under the
//! folder is unmounted.

use super::wait_until;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

pub fn which(prog: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(prog)).find(|p| p.is_file()))
}

/// Why rootful podman with runc cannot run here, if it cannot.
pub fn missing() -> Option<String> {
    if merit_sys::geteuid() != 0 {
        return Some("not root (rootful podman is what is tested)".into());
    }
    for prog in ["podman", "runc"] {
        if which(prog).is_none() && !Path::new("/usr/sbin").join(prog).is_file() {
            return Some(format!("{prog} not installed (apt-get install podman runc)"));
        }
    }
    None
}

pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// podman with its storage, run state and configuration under one temp folder; `image` is
/// removed on drop, with every container started through [`Podman::run_detached`].
pub struct Podman {
    pub dir: PathBuf,
    conf: PathBuf,
    pub image: String,
    pub containers: Vec<String>,
}

impl Podman {
    pub fn new(dir: &Path, image: &str) -> Podman {
        let conf = dir.join("containers.conf");
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        std::fs::write(
            &conf,
            "[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n",
        )
        .unwrap();
        Podman { dir: dir.to_path_buf(), conf, image: image.to_string(), containers: Vec::new() }
    }

    /// The environment of every podman command (its configuration, its temp folder).
    pub fn envs(&self) -> [(&'static str, PathBuf); 2] {
        [("CONTAINERS_CONF", self.conf.clone()), ("TMPDIR", self.dir.join("tmp"))]
    }

    /// podman's global options: storage and run state under our folder, runc, cgroupfs.
    pub fn global_args(&self) -> Vec<String> {
        let d = |n: &str| self.dir.join(n).to_string_lossy().into_owned();
        let mut v = vec!["--root".to_string(), d("storage"), "--runroot".into(), d("runroot"), "--tmpdir".into()];
        v.push(d("libpod"));
        v.extend(["--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file"].map(String::from));
        v
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("podman");
        c.envs(self.envs()).args(self.global_args()).args(args).stdin(Stdio::null());
        c
    }

    /// Runs podman, bounded by `timeout` (podman is killed past it).
    pub fn run_for(&self, args: &[&str], timeout: Duration) -> Output {
        let mut c = self.cmd(args);
        let child = c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("podman");
        let pid = child.id() as i32;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        match rx.recv_timeout(timeout) {
            Ok(out) => out.expect("podman output"),
            Err(_) => {
                // Still our child (not yet reaped by wait_with_output): the pid is ours.
                let _ = merit_sys::signal::kill(pid, merit_sys::signal::SIGKILL);
                let out = rx.recv().expect("podman output").expect("podman output");
                panic!("podman {args:?} took more than {timeout:?}: {}", text(&out));
            }
        }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_for(args, Duration::from_secs(60))
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "podman {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `podman run -d --name NAME --network none EXTRA... IMAGE COMMAND...`; the container is
    /// removed on drop.
    pub fn run_detached(&mut self, name: &str, extra: &[&str], command: &[&str]) {
        self.containers.push(name.to_string());
        let image = self.image.clone();
        let mut args = vec!["run", "-d", "--name", name, "--network", "none"];
        args.extend_from_slice(extra);
        args.push(&image);
        args.extend_from_slice(command);
        self.ok(&args);
    }

    pub fn logs(&self, name: &str) -> String {
        text(&self.run(&["logs", name]))
    }

    pub fn exit_code(&self, name: &str) -> String {
        self.ok(&["inspect", "--format", "{{.State.ExitCode}}", name])
    }

    /// Every service in `names` is up (s6-svstat in the container, on the scan directory).
    pub fn all_up(&self, ctr: &str, names: &[&str]) -> bool {
        names.iter().all(|n| {
            let out = self.run(&["exec", ctr, "s6-svstat", &format!("/s6/run/{n}")]);
            out.status.success() && String::from_utf8_lossy(&out.stdout).starts_with("up ")
        })
    }

    pub fn wait_up(&self, ctr: &str, names: &[&str], timeout: Duration) {
        if !wait_until(timeout, || self.all_up(ctr, names)) {
            panic!("{names:?} not all up in {ctr} within {timeout:?}; logs:\n{}", self.logs(ctr));
        }
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = self.cmd(&["rm", "-f", "-t", "0", c]).output();
        }
        let _ = self.cmd(&["rmi", "-f", &self.image]).output();
        // What podman may leave mounted under our folder (overlay, shm): unmounted, so that the
        // folder can be removed.
        let Ok(dir) = self.dir.canonicalize() else { return };
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut points: Vec<PathBuf> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .map(|p| PathBuf::from(p.replace("\\040", " ")))
            .filter(|p| p.starts_with(&dir))
            .collect();
        points.reverse();
        for p in points {
            let _ = merit_sys::system::umount(&p, true);
        }
    }
}
