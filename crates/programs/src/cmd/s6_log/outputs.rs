//! Where a line goes: the script's selections decide, for each action, whether the line is
//! recorded to stdout, a logdir's buffer, an alert on stderr or a status file.

use super::logdir::{as_path, Logdir};
use super::re::Re;
use super::{unable, Env, PROG};
use merit_core::log::format::{self, Stamps};
use merit_core::log::logdir::RotState;
use merit_core::log::script::{self, Action, ActionKind, Script};
use merit_core::tai::{display_second, Tain};
use merit_sys::{clock, errno, fd};

pub(super) struct Outputs {
    pub(super) script: Script<Re>,
    pub(super) logdirs: Vec<Logdir>,
    /// Records for stdout not yet written.
    stdout: Vec<u8>,
    /// Writing to stdout failed: it is closed and nothing more goes there.
    stdout_closed: bool,
    /// The time zone counts leap seconds (a "right/" zone), for the local stamps.
    right_zone: bool,
}

impl Outputs {
    pub(super) fn new(script: Script<Re>, logdirs: Vec<Logdir>) -> Outputs {
        let right_zone = clock::broken_down(78796800, false).is_some_and(|t| t.second == 60);
        Outputs { script, logdirs, stdout: Vec::new(), stdout_closed: false, right_zone }
    }

    /// The TAI64N label and the local-time stamp of now, as far as the script asks for them.
    fn stamps(&self) -> ([u8; 25], String) {
        let mut tai = [0u8; 25];
        let mut local = String::new();
        if self.script.want_tai || self.script.want_local {
            let (s, ns) = clock::wall();
            let t = Tain::from_unix(s, ns);
            tai = t.label();
            if self.script.want_local {
                if let Some((u, leap)) = display_second(t.secs, self.right_zone) {
                    if let Some(tm) = clock::broken_down(u, false) {
                        local = format::local_stamp(
                            tm.year,
                            tm.month,
                            tm.day,
                            tm.hour,
                            tm.minute,
                            tm.second + leap as u32,
                            t.nanos,
                        );
                    }
                }
            }
        }
        (tai, local)
    }

    pub(super) fn process_line(&mut self, line: &[u8], env: &Env) {
        let (tai, local) = self.stamps();
        let stamps = Stamps { tai: &tai, local: local.as_bytes() };
        let Outputs { script, logdirs, stdout, stdout_closed, .. } = self;
        script::select(
            &script.elements,
            line,
            |re: &Re, l: &[u8]| re.is_match(l, env),
            |a: &Action| match &a.kind {
                ActionKind::Stdout => {
                    if !*stdout_closed {
                        format::record(stdout, a, &stamps, line);
                    }
                }
                ActionKind::Alert { size } => {
                    // Like every diagnostic, never blocking: a full stderr loses the alert, never
                    // stalls the logger (and with it the service writing to it).
                    fd::write_diag(2, &format::alert(PROG, a, &stamps, line, *size));
                }
                ActionKind::Status { file, size } => {
                    let data = format::status(a, &stamps, line, *size);
                    let mut new = file.clone();
                    new.extend_from_slice(b".new");
                    if let Err(e) = fd::write_replace(as_path(&new), as_path(file), &data) {
                        env.warn(&[&unable(&[b"write status file ", file], &e)]);
                    }
                }
                ActionKind::Logdir(i) => {
                    if let Some(l) = logdirs.get_mut(*i) {
                        format::record(&mut l.buf, a, &stamps, line);
                    }
                }
            },
        );
    }

    /// Every record produced so far has been handed to the kernel.
    pub(super) fn flushed(&self) -> bool {
        (self.stdout.is_empty() || self.stdout_closed) && self.logdirs.iter().all(|l| l.buf.is_empty())
    }

    pub(super) fn idle(&self) -> bool {
        self.flushed() && self.logdirs.iter().all(|l| l.rstate == RotState::Writable)
    }

    /// Records wait for stdout to be writable.
    pub(super) fn stdout_pending(&self) -> bool {
        !self.stdout_closed && !self.stdout.is_empty()
    }

    /// Whether empty buffers still hold memory (see [`IDLE_RELEASE_MS`](super::IDLE_RELEASE_MS)).
    pub(super) fn holds_memory(&self) -> bool {
        self.stdout.capacity() > 0 || self.logdirs.iter().any(|l| l.buf.capacity() > 0)
    }

    /// Frees the buffers that are empty.
    pub(super) fn release_memory(&mut self) {
        if self.stdout.is_empty() {
            self.stdout = Vec::new();
        }
        for l in self.logdirs.iter_mut().filter(|l| l.buf.is_empty()) {
            l.buf = Vec::new();
        }
    }

    pub(super) fn flush_stdout(&mut self, env: &Env) {
        if self.stdout_closed || self.stdout.is_empty() {
            return;
        }
        match fd::write(1, &self.stdout) {
            Ok(n) => {
                self.stdout.drain(..n.min(self.stdout.len()));
            }
            Err(e) if errno::is(&e, errno::EAGAIN) => {}
            Err(e) => {
                env.warn(&[&unable(&[b"write to stdout, closing the stream - error was"], &e)]);
                self.stdout_closed = true;
                self.stdout = Vec::new();
                fd::close(1);
            }
        }
    }
}
