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
        Input::Backoff(Decision::Restart { delay_ms: 0 }),
        Input::Backoff(Decision::Restart { delay_ms: 4000 }),
        Input::Backoff(Decision::GiveUp { deaths: 3, window_s: 10 }),
        Input::WatchdogExpired,
    ]);
    v
}

const STATES: [State; 5] = [State::Down, State::Up, State::Finish, State::LastUp, State::LastFinish];

/// The row of the table an input belongs to (a kind of input, payload aside). Written
/// without wildcard: a new kind of input does not compile here, and then
/// `the_tests_cover_every_cell` fails until [`all_inputs`] has one of it.
fn row(input: &Input) -> usize {
    use Control as C;
    use SupervisorSignal as G;
    match input {
        Input::Control(C::Signal(_)) => 0,
        Input::Control(C::Pause) => 1,
        Input::Control(C::Continue) => 2,
        Input::Control(C::Restart) => 3,
        Input::Control(C::Once) => 4,
        Input::Control(C::Down) => 5,
        Input::Control(C::Up) => 6,
        Input::Control(C::DownPermanent) => 7,
        Input::Control(C::UpPermanent) => 8,
        Input::Control(C::Exit) => 9,
        Input::Control(C::OnceAndKeep) => 10,
        Input::Control(C::QuitKeep) => 11,
        Input::Signal(G::Term) => 12,
        Input::Signal(G::Hup) => 13,
        Input::Signal(G::Quit) => 14,
        Input::Signal(G::Int) => 15,
        Input::Timeout => 16,
        Input::Ready => 17,
        Input::RunSpawned(SpawnOutcome::Spawned(_)) => 18,
        Input::RunSpawned(SpawnOutcome::ExecFailed) => 19,
        Input::RunSpawned(SpawnOutcome::ResourceFailed) => 20,
        Input::RunSpawned(SpawnOutcome::FdConflict) => 21,
        Input::FinishSpawned(Some(_)) => 22,
        Input::FinishSpawned(None) => 23,
        Input::RunDied(_) => 24,
        Input::FinishDied(_) => 25,
        Input::Backoff(_) => 26,
        Input::WatchdogExpired => 27,
    }
}
const ROWS: usize = 28;

/// The column of a state, also without wildcard: a new state does not compile here.
fn column(state: State) -> usize {
    match state {
        State::Down => 0,
        State::Up => 1,
        State::Finish => 2,
        State::LastUp => 3,
        State::LastFinish => 4,
    }
}
const COLUMNS: usize = 5;

#[test]
fn the_tests_cover_every_cell() {
    let mut rows = [false; ROWS];
    for input in all_inputs() {
        rows[row(&input)] = true;
    }
    assert_eq!(rows, [true; ROWS], "all_inputs() lacks a kind of input");
    let mut columns = [false; COLUMNS];
    for st in STATES {
        columns[column(st)] = true;
        assert_eq!(in_state(st).state(), st);
    }
    assert_eq!(columns, [true; COLUMNS], "STATES lacks a state");
}

/// What holds after every step, whatever the cell: `before` is the supervisor before `input`.
fn check_step(before: &Supervisor, input: Input, now: Now, after: &Supervisor, fx: &Effects) {
    let f = fx.as_slice();
    let cell = format!("{:?} × {input:?}: {f:?}", before.state());
    // Room to spare in the fixed-capacity list: nothing was dropped.
    assert!(f.len() < Effects::CAPACITY, "{cell}");
    // An exit is always the event `x`, then Exit, last.
    if let Some(i) = f.iter().position(|e| *e == E::Exit) {
        assert_eq!(i, f.len() - 1, "{cell}");
        assert_eq!(f[i - 1], E::Event(b"x"), "{cell}");
        return;
    }
    let st = after.status();
    // What each state publishes.
    match after.state() {
        State::Down => assert!(st.pid == 0 && !st.finishing && st.ready && !st.paused, "{cell}: {st:?}"),
        State::Up | State::LastUp => assert!(st.pid != 0 && !st.finishing, "{cell}: {st:?}"),
        State::Finish | State::LastFinish => assert!(st.pid != 0 && st.finishing, "{cell}: {st:?}"),
    }
    // Once the supervisor is to exit, it stays so.
    let last = |s: State| matches!(s, State::LastUp | State::LastFinish);
    if last(before.state()) {
        assert!(last(after.state()), "{cell}");
    }
    for e in f {
        match e {
            // Effects answered by an input are asked for only where that input is handled.
            E::SpawnRun => assert_eq!(after.state(), State::Down, "{cell}"),
            E::SpawnFinish { .. } => assert!(matches!(after.state(), State::Up | State::LastUp), "{cell}"),
            // Letting go of the terminal means exiting once down.
            E::StdioToNull => assert!(last(after.state()), "{cell}"),
            _ => {}
        }
    }
    // A changed status is written, by this step or by the answer to its SpawnFinish.
    if after.status() != before.status() {
        assert!(f.iter().any(|e| matches!(e, E::WriteStatus | E::SpawnFinish { .. })), "{cell}");
    }
    // A timer armed by this step is not in the past.
    if after.deadline() != before.deadline() {
        assert!(after.deadline().map_or(true, |d| d >= now.mono), "{cell}");
    }
}

#[test]
fn every_cell_of_the_table_runs() {
    // Every state × every input: no panic, room left in the effect list, and the invariants
    // of check_step.
    for st in STATES {
        for input in all_inputs() {
            let mut s = in_state(st);
            let before = s.clone();
            let fx = s.step(input, at(20), &mut cfg());
            check_step(&before, input, at(20), &s, &fx);
        }
    }
}

/// A walk through the table the way the driver takes it: external inputs only where the
/// driver feeds them (a death only of the child the state names), spawn effects answered
/// through an [`InputQueue`] drained after each step, a fresh supervisor after each exit.
#[test]
fn random_walks_through_the_driver_protocol() {
    let inputs = all_inputs();
    let mut rng = 0x5eed_u64;
    let mut next = move |n: usize| {
        // splitmix64
        rng = rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % n as u64) as usize
    };
    let mut t = 0u64;
    let mut s = Supervisor::start(true, at(t)).0;
    let mut pids = 1000u64;
    let mut cells = [[false; ROWS]; COLUMNS];
    for _ in 0..20_000 {
        t += next(3) as u64;
        let external = match (s.state(), next(6)) {
            // The timer, when it is due.
            (_, 0) if s.deadline().is_some() => {
                t = t.max(s.deadline().unwrap_or(0).div_ceil(SECOND));
                Input::Timeout
            }
            (State::Up | State::LastUp, 1) => Input::RunDied([0, 9, 15, 0x0300][next(4)]),
            (State::Finish | State::LastFinish, 1) => Input::FinishDied([0, 125 << 8, 9][next(3)]),
            (_, 2) => Input::Ready,
            // Supervisor signals exit too often to draw them as often as letters.
            _ => loop {
                let i = inputs[next(inputs.len())];
                let answer = matches!(i, Input::RunSpawned(_) | Input::FinishSpawned(_));
                let death = matches!(i, Input::RunDied(_) | Input::FinishDied(_) | Input::Backoff(_));
                let signal = matches!(i, Input::Signal(_)) && next(4) != 0;
                if !answer && !death && !signal && i != Input::Timeout {
                    break i;
                }
            },
        };
        // Configuration as read at that moment: escalation and finish timeouts on or off.
        let c = &mut Cfg { down_signal: SIGTERM, timeout_kill: [0, 250][next(2)], timeout_finish: [0, 5000][next(2)] };
        let mut queue = InputQueue::default();
        // A restart policy's decision comes just before the death of run it is about.
        if matches!(external, Input::RunDied(_)) && next(2) == 0 {
            let d = [Decision::Restart { delay_ms: 0 }, Decision::Restart { delay_ms: 4000 }];
            let d = [d[0], d[1], Decision::GiveUp { deaths: 3, window_s: 10 }][next(3)];
            assert!(queue.push(Input::Backoff(d)));
        }
        assert!(queue.push(external));
        while let Some(input) = queue.pop() {
            let before = s.clone();
            let fx = s.step(input, at(t), c);
            cells[column(before.state())][row(&input)] = true;
            check_step(&before, input, at(t), &s, &fx);
            for e in fx.as_slice() {
                match e {
                    E::SpawnRun => {
                        pids += 1;
                        let outcome = [
                            SpawnOutcome::Spawned(pids),
                            SpawnOutcome::Spawned(pids),
                            SpawnOutcome::ExecFailed,
                            SpawnOutcome::ResourceFailed,
                            SpawnOutcome::FdConflict,
                        ][next(5)];
                        assert!(queue.push(Input::RunSpawned(outcome)));
                    }
                    E::SpawnFinish { .. } => {
                        pids += 1;
                        match next(4) {
                            0 => assert!(queue.push(Input::FinishSpawned(None))),
                            1 => {
                                // No executable finish: spawned, and already reaped.
                                assert!(queue.push(Input::FinishSpawned(Some(pids))));
                                assert!(queue.push(Input::FinishDied(127 << 8)));
                            }
                            _ => assert!(queue.push(Input::FinishSpawned(Some(pids)))),
                        }
                    }
                    E::Exit => {
                        assert!(queue.is_empty(), "nothing answers an exit");
                        s = Supervisor::start(next(2) == 0, at(t)).0;
                    }
                    _ => {}
                }
            }
            assert!(queue.len() <= 2);
        }
    }
    // The walk went through every cell the driver can reach, and through no other: answers
    // and deaths come only in the states that expect them (the other cells, inputs ignored,
    // are covered by every_cell_of_the_table_runs).
    for st in STATES {
        for (r, &visited) in cells[column(st)].iter().enumerate() {
            let reachable = match r {
                18..=21 => st == State::Down,
                22..=24 | 26 => matches!(st, State::Up | State::LastUp),
                25 => matches!(st, State::Finish | State::LastFinish),
                _ => true,
            };
            assert_eq!(visited, reachable, "{st:?} × row {r}");
        }
    }
}

#[test]
fn input_queue_is_first_in_first_out_and_bounded() {
    let mut q = InputQueue::default();
    assert!(q.is_empty() && q.pop().is_none());
    // Round and round, past the end of the array.
    for round in 0..10u16 {
        assert!(q.push(Input::RunDied(round)));
        assert!(q.push(Input::FinishDied(round)));
        assert_eq!(q.len(), 2);
        assert_eq!(q.pop(), Some(Input::RunDied(round)));
        assert_eq!(q.pop(), Some(Input::FinishDied(round)));
        assert_eq!(q.pop(), None);
    }
    for i in 0..InputQueue::CAPACITY as u16 {
        assert!(q.push(Input::RunDied(i)));
    }
    assert!(!q.push(Input::Ready), "full: refused, not overwritten");
    for i in 0..InputQueue::CAPACITY as u16 {
        assert_eq!(q.pop(), Some(Input::RunDied(i)));
    }
    assert!(q.is_empty());
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

/// `restart-delay`: the decision fed before the death holds the restart until death + delay,
/// on top of s6's one-second rule.
#[test]
fn backoff_delays_the_restart() {
    let c = &mut cfg();
    let mut s = in_state(State::Up);
    s.step(Input::Backoff(Decision::Restart { delay_ms: 4000 }), at(10), c);
    s.step(Input::RunDied(0x0300), at(10), c);
    s.step(Input::FinishSpawned(None), at(10), c);
    assert_eq!(s.state(), State::Down);
    assert_eq!(s.deadline(), Some(14 * SECOND));
    // A short delay leaves s6's rule (one second).
    let mut s = in_state(State::Up);
    s.step(Input::Backoff(Decision::Restart { delay_ms: 10 }), at(10), c);
    s.step(Input::RunDied(0x0300), at(10), c);
    s.step(Input::FinishSpawned(None), at(10), c);
    assert_eq!(s.deadline(), Some(11 * SECOND));
    // The next life starts without a decision.
    s.step(Input::Timeout, at(11), c);
    s.step(Input::RunSpawned(SpawnOutcome::Spawned(RUN)), at(11), c);
    s.step(Input::RunDied(0x0300), at(12), c);
    let fx = s.step(Input::FinishSpawned(None), at(12), c);
    assert_eq!(s.deadline(), Some(13 * SECOND));
    assert!(fx.as_slice().contains(&E::Event(b"dD")));
}

/// `restart-limit`: giving up is down for good, want down, event `O`, no timer; `u` starts
/// again.
#[test]
fn giving_up_stays_down_until_u() {
    let c = &mut cfg();
    for finish in [false, true] {
        let mut s = in_state(State::Up);
        s.step(Input::Backoff(Decision::GiveUp { deaths: 3, window_s: 10 }), at(10), c);
        s.step(Input::RunDied(0x0300), at(10), c);
        let fx = if finish {
            s.step(Input::FinishSpawned(Some(FIN)), at(10), c);
            s.step(Input::FinishDied(0), at(10), c)
        } else {
            s.step(Input::FinishSpawned(None), at(10), c)
        };
        assert_eq!(s.state(), State::Down);
        assert_eq!(s.deadline(), None);
        assert!(!s.status().wantup);
        let ev = if finish { E::Event(b"OD") } else { E::Event(b"dOD") };
        assert!(fx.as_slice().contains(&ev), "{:?}", fx.as_slice());
        let fx = s.step(Input::Control(Control::Up), at(20), c);
        assert!(fx.as_slice().contains(&E::SpawnRun));
    }
    // In Down (a driver bug) it changes nothing.
    let mut s = in_state(State::Down);
    let before = s.clone();
    let fx = s.step(Input::Backoff(Decision::GiveUp { deaths: 3, window_s: 10 }), at(10), c);
    assert!(fx.as_slice().is_empty());
    assert_eq!(s.deadline(), before.deadline());
}

/// The watchdog: down-signal and SIGCONT to run, SIGKILL after 5 s (timeout-kill 0); nothing
/// once run is dead.
#[test]
fn watchdog_restarts_run() {
    let c = &mut cfg();
    let mut s = in_state(State::Up);
    let fx = s.step(Input::WatchdogExpired, at(10), c);
    assert_eq!(fx.as_slice(), &[E::Kill { pid: RUN, sig: SIGTERM }, E::Kill { pid: RUN, sig: SIGCONT }]);
    assert_eq!(s.deadline(), Some(15 * SECOND));
    assert!(s.status().wantup, "restarted, not stopped");
    let fx = s.step(Input::Timeout, at(15), c);
    assert_eq!(fx.as_slice(), &[E::Kill { pid: RUN, sig: SIGKILL }]);
    for st in [State::Down, State::Finish, State::LastFinish] {
        let mut s = in_state(st);
        assert!(s.step(Input::WatchdogExpired, at(10), c).as_slice().is_empty());
    }
}
