use super::*;
use Effect as E;

struct Cfg {
    down_signal: Signal,
    timeout_kill: u32,
    timeout_finish: u32,
}

impl ServiceConfig for Cfg {
    fn down_signal(&mut self) -> Signal {
        self.down_signal
    }
    fn timeout_kill(&mut self) -> u32 {
        self.timeout_kill
    }
    fn timeout_finish(&mut self) -> u32 {
        self.timeout_finish
    }
}

fn cfg() -> Cfg {
    Cfg { down_signal: SIGTERM, timeout_kill: 0, timeout_finish: 5000 }
}

fn at(s: u64) -> Now {
    Now { wall: Tain::new(crate::tai::TAI64_BASE + 1000 + s, 0), mono: s * SECOND }
}

const RUN: u64 = 100;
const FIN: u64 = 200;

/// Drives a fresh supervisor into `state` (want-up true), at time 10 s.
fn in_state(state: State) -> Supervisor {
    let (mut s, _) = Supervisor::start(true, at(0));
    let c = &mut cfg();
    if state == State::Down {
        // Started with ./down: stays down.
        let (s2, _) = Supervisor::start(false, at(0));
        return s2;
    }
    s.step(Input::Timeout, at(0), c);
    s.step(Input::RunSpawned(SpawnOutcome::Spawned(RUN)), at(0), c);
    assert_eq!(s.state(), State::Up);
    match state {
        State::Up => {}
        State::LastUp => {
            s.step(Input::Control(Control::Exit), at(1), c);
        }
        State::Finish | State::LastFinish => {
            if state == State::LastFinish {
                s.step(Input::Control(Control::Exit), at(1), c);
            }
            s.step(Input::RunDied(15), at(2), c);
            s.step(Input::FinishSpawned(Some(FIN)), at(2), c);
        }
        State::Down => unreachable!(),
    }
    assert_eq!(s.state(), state);
    s
}

fn all_inputs() -> Vec<Input> {
    let mut v: Vec<Input> =
        b"abqhkti12pcyroduDUxOQ".iter().map(|&b| Input::Control(Control::from_byte(b).unwrap())).collect();
    for g in [SupervisorSignal::Term, SupervisorSignal::Hup, SupervisorSignal::Quit, SupervisorSignal::Int] {
        v.push(Input::Signal(g));
    }
    v.extend([
        Input::Timeout,
        Input::Ready,
        Input::RunSpawned(SpawnOutcome::Spawned(RUN)),
        Input::RunSpawned(SpawnOutcome::ExecFailed),
        Input::RunSpawned(SpawnOutcome::ResourceFailed),
        Input::RunSpawned(SpawnOutcome::FdConflict),
        Input::FinishSpawned(Some(FIN)),
        Input::FinishSpawned(None),
        Input::RunDied(0x0300),
        Input::RunDied(9),
        Input::FinishDied(0),
        Input::FinishDied(125 << 8),
    ]);
    v
}

const STATES: [State; 5] = [State::Down, State::Up, State::Finish, State::LastUp, State::LastFinish];

#[test]
fn every_cell_of_the_table_runs() {
    // 5 states × every input: no panic (effect capacity), and an exit is always `x` then Exit.
    for st in STATES {
        for input in all_inputs() {
            let mut s = in_state(st);
            let fx = s.step(input, at(20), &mut cfg());
            let f = fx.as_slice();
            if let Some(i) = f.iter().position(|e| *e == E::Exit) {
                assert_eq!(i, f.len() - 1, "{st:?} {input:?}");
                assert_eq!(f[i - 1], E::Event(b"x"), "{st:?} {input:?}");
            }
        }
    }
}

#[test]
fn start_writes_status_then_s() {
    let (s, fx) = Supervisor::start(true, at(0));
    assert_eq!(fx.as_slice(), &[E::WriteStatus, E::Event(b"s")]);
    let st = s.status();
    assert_eq!(st.stamp, st.readystamp);
    assert!(st.ready && st.wantup && st.pid == 0);
    assert_eq!(s.deadline(), Some(0));
    let (s, _) = Supervisor::start(false, at(0));
    assert!(!s.status().wantup);
}

#[test]
fn signal_letters_only_reach_run_when_up() {
    for (b, sig) in [
        (b'a', SIGALRM),
        (b'b', SIGABRT),
        (b'q', SIGQUIT),
        (b'h', SIGHUP),
        (b'k', SIGKILL),
        (b't', SIGTERM),
        (b'i', SIGINT),
        (b'1', SIGUSR1),
        (b'2', SIGUSR2),
        (b'y', SIGWINCH),
    ] {
        let input = Input::Control(Control::from_byte(b).unwrap());
        for st in STATES {
            let mut s = in_state(st);
            let before = *s.status();
            let fx = s.step(input, at(20), &mut cfg());
            if matches!(st, State::Up | State::LastUp) {
                assert_eq!(fx.as_slice(), &[E::Kill { pid: RUN, sig }]);
            } else {
                assert!(fx.as_slice().is_empty());
            }
            assert_eq!(*s.status(), before, "signal letters never change the status");
        }
    }
}

#[test]
fn unknown_bytes_are_ignored() {
    for b in 0..=255u8 {
        let known = b"abqhkti12pcyroduDUxOQ".contains(&b);
        assert_eq!(Control::from_byte(b).is_some(), known, "byte {b}");
    }
}

#[test]
fn pause_and_continue() {
    let mut s = in_state(State::Up);
    let fx = s.step(Input::Control(Control::Pause), at(20), &mut cfg());
    assert_eq!(fx.as_slice(), &[E::Kill { pid: RUN, sig: SIGSTOP }, E::WriteStatus]);
    assert!(s.status().paused);
    let fx = s.step(Input::Control(Control::Continue), at(21), &mut cfg());
    assert_eq!(fx.as_slice(), &[E::Kill { pid: RUN, sig: SIGCONT }, E::WriteStatus]);
    assert!(!s.status().paused);
    for st in [State::Down, State::Finish, State::LastFinish] {
        let mut s = in_state(st);
        assert!(s.step(Input::Control(Control::Pause), at(20), &mut cfg()).as_slice().is_empty());
    }
}

#[test]
fn down_in_up_uses_down_signal_and_arms_timeout_kill() {
    let mut s = in_state(State::Up);
    s.step(Input::Control(Control::Pause), at(20), &mut cfg());
    let mut c = Cfg { down_signal: SIGHUP, timeout_kill: 250, timeout_finish: 5000 };
    let fx = s.step(Input::Control(Control::Down), at(20), &mut c);
    assert_eq!(fx.as_slice(), &[E::Kill { pid: RUN, sig: SIGHUP }, E::Kill { pid: RUN, sig: SIGCONT }, E::WriteStatus]);
    assert!(!s.status().wantup && !s.status().paused);
    assert_eq!(s.deadline(), Some(20 * SECOND + 250 * MILLI));
    // escalation: SIGKILL, then every 5 s
    let fx = s.step(Input::Timeout, at(21), &mut c);
    assert_eq!(fx.as_slice(), &[E::Kill { pid: RUN, sig: SIGKILL }]);
    assert_eq!(s.deadline(), Some(26 * SECOND));
    // death cancels it
    s.step(Input::RunDied(9), at(22), &mut c);
    assert_eq!(s.deadline(), None);
}

#[test]
fn restart_letter_sends_only_down_signal() {
    let mut s = in_state(State::Up);
    let mut c = Cfg { down_signal: SIGUSR1, timeout_kill: 100, timeout_finish: 0 };
    let fx = s.step(Input::Control(Control::Restart), at(20), &mut c);
    assert_eq!(fx.as_slice(), &[E::Kill { pid: RUN, sig: SIGUSR1 }]);
    assert!(s.status().wantup);
    assert_eq!(s.deadline(), None, "r never arms timeout-kill");
}

#[test]
fn down_permanent_and_up_permanent() {
    let mut s = in_state(State::Up);
    let fx = s.step(Input::Control(Control::DownPermanent), at(20), &mut cfg());
    assert_eq!(fx.as_slice()[0], E::CreateDownFile);
    assert_eq!(fx.as_slice()[1], E::Kill { pid: RUN, sig: SIGTERM });
    let mut s = in_state(State::Down);
    let fx = s.step(Input::Control(Control::UpPermanent), at(20), &mut cfg());
    assert_eq!(fx.as_slice(), &[E::RemoveDownFile, E::WriteStatus, E::SpawnRun]);
    assert!(s.status().wantup);
    let mut s = in_state(State::Finish);
    let fx = s.step(Input::Control(Control::UpPermanent), at(20), &mut cfg());
    assert_eq!(fx.as_slice(), &[E::RemoveDownFile, E::WriteStatus]);
    for st in STATES {
        let mut s = in_state(st);
        let fx = s.step(Input::Control(Control::QuitKeep), at(20), &mut cfg());
        assert_eq!(fx.as_slice(), &[E::CreateDownFile, E::WriteStatus], "{st:?}");
        assert!(!s.status().wantup);
    }
}

#[test]
fn once_in_down_spawns_with_want_down() {
    let mut s = in_state(State::Down);
    let fx = s.step(Input::Control(Control::Once), at(20), &mut cfg());
    assert_eq!(fx.as_slice(), &[E::WriteStatus, E::SpawnRun]);
    assert!(!s.status().wantup);
    s.step(Input::RunSpawned(SpawnOutcome::Spawned(RUN)), at(20), &mut cfg());
    s.step(Input::RunDied(0), at(21), &mut cfg());
    s.step(Input::FinishSpawned(Some(FIN)), at(21), &mut cfg());
    s.step(Input::FinishDied(0), at(21), &mut cfg());
    assert_eq!(s.state(), State::Down);
    let fx = s.step(Input::Timeout, at(30), &mut cfg());
    assert!(fx.as_slice().is_empty(), "once: not restarted");
    assert_eq!(s.deadline(), None);
}

#[test]
fn up_in_down_spawns_now_up_elsewhere_only_wants() {
    let mut s = in_state(State::Down);
    let fx = s.step(Input::Control(Control::Up), at(20), &mut cfg());
    assert_eq!(fx.as_slice(), &[E::WriteStatus, E::SpawnRun]);
    for st in [State::Up, State::Finish, State::LastUp, State::LastFinish] {
        let mut s = in_state(st);
        let fx = s.step(Input::Control(Control::Up), at(20), &mut cfg());
        assert_eq!(fx.as_slice(), &[E::WriteStatus], "{st:?}");
    }
}

#[test]
fn spawn_outcomes() {
    let mut s = in_state(State::Down);
    s.step(Input::Control(Control::Up), at(20), &mut cfg());
    let before = *s.status();
    let fx = s.step(Input::RunSpawned(SpawnOutcome::ExecFailed), at(20), &mut cfg());
    assert!(fx.as_slice().is_empty(), "exec failure: no status write, no event");
    assert_eq!(*s.status(), before);
    assert_eq!(s.deadline(), Some(30 * SECOND));
    s.step(Input::RunSpawned(SpawnOutcome::ResourceFailed), at(20), &mut cfg());
    assert_eq!(s.deadline(), Some(80 * SECOND));
    s.step(Input::RunSpawned(SpawnOutcome::FdConflict), at(20), &mut cfg());
    assert_eq!(s.deadline(), None);
    let fx = s.step(Input::RunSpawned(SpawnOutcome::Spawned(RUN)), at(21), &mut cfg());
    assert_eq!(fx.as_slice(), &[E::WriteStatus, E::Event(b"u")]);
    let st = s.status();
    assert_eq!(st.pid, RUN);
    assert!(!st.ready);
    assert_eq!(st.stamp, at(21).wall);
}

#[test]
fn death_finish_and_restart_throttle() {
    let mut s = in_state(State::Up);
    let c = &mut cfg();
    let fx = s.step(Input::RunDied(0x0300), at(20), c);
    assert_eq!(
        fx.as_slice(),
        &[
            E::CloseNotification,
            E::RecordDeath(DeathRecord { when: at(20).wall, code: 3, sig: 0 }),
            E::SpawnFinish { code: 3, sig: 0 }
        ]
    );
    let fx = s.step(Input::FinishSpawned(Some(FIN)), at(20), c);
    assert_eq!(fx.as_slice(), &[E::WriteStatus, E::Event(b"d")]);
    assert_eq!(s.status().pid, FIN);
    assert!(s.status().finishing && !s.status().is_up());
    assert_eq!(s.deadline(), Some(25 * SECOND), "timeout-finish 5000 ms");
    let fx = s.step(Input::FinishDied(0), at(20), c);
    assert_eq!(fx.as_slice(), &[E::WriteStatus, E::Event(b"D")]);
    assert_eq!(s.state(), State::Down);
    assert!(s.status().ready && s.status().pid == 0 && !s.status().finishing);
    assert_eq!(s.status().wstat, 0x0300);
    // not ready in its life: restart 1 s after finish ended
    assert_eq!(s.deadline(), Some(21 * SECOND));
    let fx = s.step(Input::Timeout, at(21), c);
    assert_eq!(fx.as_slice(), &[E::SpawnRun]);
}

#[test]
fn signal_death_passes_256_and_signal_to_finish() {
    let mut s = in_state(State::Up);
    let fx = s.step(Input::RunDied(15), at(20), &mut cfg());
    assert_eq!(fx.as_slice()[2], E::SpawnFinish { code: 256, sig: 15 });
    assert_eq!(fx.as_slice()[1], E::RecordDeath(DeathRecord { when: at(20).wall, code: 143, sig: 15 }));
}

#[test]
fn readiness_sets_restart_base() {
    let mut s = in_state(State::Up);
    let c = &mut cfg();
    let fx = s.step(Input::Ready, at(10), c);
    assert_eq!(fx.as_slice(), &[E::WriteStatus, E::Event(b"U"), E::CloseNotification]);
    assert!(s.status().ready);
    assert_eq!(s.status().readystamp, at(10).wall);
    s.step(Input::RunDied(9), at(30), c);
    s.step(Input::FinishSpawned(Some(FIN)), at(30), c);
    s.step(Input::FinishDied(0), at(30), c);
    // ready at 10 s: restart base 11 s is past, so restart at once
    assert_eq!(s.deadline(), Some(30 * SECOND));
}

#[test]
fn finish_125_is_permanent_failure() {
    let mut s = in_state(State::Finish);
    let fx = s.step(Input::FinishDied(125 << 8), at(20), &mut cfg());
    assert_eq!(fx.as_slice(), &[E::WriteStatus, E::Event(b"OD")]);
    assert!(!s.status().wantup);
    // killed by signal 125 is not exit 125
    let mut s = in_state(State::Finish);
    let fx = s.step(Input::FinishDied(125), at(20), &mut cfg());
    assert_eq!(fx.as_slice(), &[E::WriteStatus, E::Event(b"D")]);
}

#[test]
fn finish_fork_failure_is_down_and_ready_at_once() {
    let mut s = in_state(State::Up);
    s.step(Input::RunDied(9), at(20), &mut cfg());
    let fx = s.step(Input::FinishSpawned(None), at(20), &mut cfg());
    assert_eq!(fx.as_slice(), &[E::WriteStatus, E::Event(b"dD")]);
    assert_eq!(s.state(), State::Down);
}

#[test]
fn finish_timeout_kills_finish() {
    let mut s = in_state(State::Finish);
    let fx = s.step(Input::Timeout, at(20), &mut cfg());
    assert_eq!(fx.as_slice(), &[E::KillFinish { pid: FIN }]);
    assert_eq!(s.deadline(), Some(25 * SECOND));
    let mut s = in_state(State::Up);
    let mut c = Cfg { down_signal: SIGTERM, timeout_kill: 0, timeout_finish: 0 };
    s.step(Input::RunDied(9), at(20), &mut c);
    s.step(Input::FinishSpawned(Some(FIN)), at(20), &mut c);
    assert_eq!(s.deadline(), None, "timeout-finish 0 = unlimited");
}

#[test]
fn exit_letter() {
    let mut s = in_state(State::Down);
    let fx = s.step(Input::Control(Control::Exit), at(20), &mut cfg());
    assert_eq!(fx.as_slice(), &[E::Event(b"x"), E::Exit]);
    let mut s = in_state(State::Up);
    let fx = s.step(Input::Control(Control::Exit), at(20), &mut cfg());
    assert_eq!(fx.as_slice(), &[E::StdioToNull]);
    assert_eq!(s.state(), State::LastUp);
    // service still wanted up but LastUp: after death and finish, exit, no restart
    s.step(Input::RunDied(15), at(21), &mut cfg());
    s.step(Input::FinishSpawned(Some(FIN)), at(21), &mut cfg());
    assert_eq!(s.state(), State::LastFinish);
    let fx = s.step(Input::FinishDied(0), at(21), &mut cfg());
    assert_eq!(fx.as_slice(), &[E::WriteStatus, E::Event(b"D"), E::Event(b"x"), E::Exit]);
}

#[test]
fn supervisor_signals() {
    use SupervisorSignal as G;
    // Down: every signal exits at once.
    for g in [G::Term, G::Hup, G::Quit, G::Int] {
        let mut s = in_state(State::Down);
        assert_eq!(s.step(Input::Signal(g), at(20), &mut cfg()).as_slice(), &[E::Event(b"x"), E::Exit]);
    }
    // Quit: always at once, service untouched.
    for st in STATES {
        let mut s = in_state(st);
        assert_eq!(s.step(Input::Signal(G::Quit), at(20), &mut cfg()).as_slice(), &[E::Event(b"x"), E::Exit]);
    }
    // Int: the group, then exit.
    let mut s = in_state(State::Up);
    assert_eq!(
        s.step(Input::Signal(G::Int), at(20), &mut cfg()).as_slice(),
        &[E::KillGroup { pid: RUN, sig: SIGINT }, E::Event(b"x"), E::Exit]
    );
    let mut s = in_state(State::Finish);
    assert_eq!(
        s.step(Input::Signal(G::Int), at(20), &mut cfg()).as_slice(),
        &[E::KillGroup { pid: FIN, sig: SIGINT }, E::Event(b"x"), E::Exit]
    );
    // Term in Up: stop (no stdio redirection), become LastUp.
    let mut s = in_state(State::Up);
    let fx = s.step(Input::Signal(G::Term), at(20), &mut cfg());
    assert_eq!(
        fx.as_slice(),
        &[E::Kill { pid: RUN, sig: SIGTERM }, E::Kill { pid: RUN, sig: SIGCONT }, E::WriteStatus]
    );
    assert_eq!(s.state(), State::LastUp);
    // Term in Finish: as x. In LastFinish: ignored.
    let mut s = in_state(State::Finish);
    assert_eq!(s.step(Input::Signal(G::Term), at(20), &mut cfg()).as_slice(), &[E::StdioToNull]);
    assert_eq!(s.state(), State::LastFinish);
    assert!(s.step(Input::Signal(G::Term), at(20), &mut cfg()).as_slice().is_empty());
    // Hup in Up: as x.
    let mut s = in_state(State::Up);
    assert_eq!(s.step(Input::Signal(G::Hup), at(20), &mut cfg()).as_slice(), &[E::StdioToNull]);
    assert_eq!(s.state(), State::LastUp);
}

#[test]
fn want_changes_always_write_status() {
    for st in STATES {
        for b in [b'O', b'd'] {
            if st == State::Up || st == State::LastUp {
                continue;
            }
            let mut s = in_state(st);
            let fx = s.step(Input::Control(Control::from_byte(b).unwrap()), at(20), &mut cfg());
            assert_eq!(fx.as_slice(), &[E::WriteStatus], "{st:?} {}", b as char);
        }
    }
    let mut s = in_state(State::Up);
    let fx = s.step(Input::Control(Control::OnceAndKeep), at(20), &mut cfg());
    assert_eq!(fx.as_slice(), &[E::WriteStatus]);
    assert_eq!(s.state(), State::Up, "O keeps the service running");
}

#[test]
fn ready_outside_up_only_closes() {
    for st in [State::Down, State::Finish, State::LastFinish] {
        let mut s = in_state(st);
        assert_eq!(s.step(Input::Ready, at(20), &mut cfg()).as_slice(), &[E::CloseNotification]);
    }
}
