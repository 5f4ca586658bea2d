// The one table `service` is documented from: its commands, options, environment, exit codes,
// JSON fields and files, and the generators of its usage text, its man page service(8) and its
// bash, zsh and fish completions.
//
// This file is `include!`d twice: by merit-core (`merit_core::service::doc`, used by the binary
// for its usage text and by the unit tests) and by `crates/programs/build.rs`, which writes the
// man page and the completions into OUT_DIR at build time (`service --generate man|bash|zsh|fish`
// prints them). So it holds plain items only: no inner attributes or doc comments, no `use` of
// anything outside `std`.

/// A command: its name, its arguments after the name, a one-line summary (completions, usage)
/// and the paragraph of the man page.
pub struct CommandDoc {
    pub name: &'static str,
    pub args: &'static str,
    pub summary: &'static str,
    pub text: &'static str,
}

/// Every command, in the order of the usage text and the man page.
pub const COMMANDS: &[CommandDoc] = &[
    CommandDoc {
        name: "list",
        args: "",
        summary: "show every defined service, its status and whether it starts at boot",
        text: "Show every service defined in the available directory, sorted by name, in the table of Mere Linux: its status (up, down, failed when its supervisor gave up restarting it after restart-limit deaths, or unknown when it is not supervised) and whether it starts at boot (enabled or disabled). On a terminal the status word is coloured. With --json, a JSON array of objects instead (see JSON OUTPUT).",
    },
    CommandDoc {
        name: "enable",
        args: "",
        summary: "start the service at boot (does not start it now)",
        text: "Make the service start at boot: create (or replace) the symbolic link ENABLED/NAME pointing at ../available/NAME (a path relative to the enabled directory). The service is not started now. A supervised copy that is down is taken out of supervision, so that the next start supervises the current definition. Only a symbolic link is ever replaced: when ENABLED/NAME is a directory or anything else service did not make, nothing is touched, FAIL is printed with what it is, and the exit status is 1.",
    },
    CommandDoc {
        name: "disable",
        args: "",
        summary: "do not start the service at boot (does not stop it now)",
        text: "Remove the link ENABLED/NAME (nothing to do when it is absent). The service is not stopped now. Anything there but a symbolic link (a directory, a file) is left as it is: FAIL, exit 1.",
    },
    CommandDoc {
        name: "start",
        args: "",
        summary: "start what the service needs, then the service, each waited for until up",
        text: "First the services NAME needs (see DEPENDENCIES), directly or not, each after what it needs, one line \"Starting X... OK\" each, then NAME; the first one that fails stops the start (FAIL on its line, the reason, then which service could not be started because of it) and gives the exit status. A dependency cycle, a needed service that is not available, an invalid name or an entry of dependencies.d that is not a regular file is refused before anything is started (exit 6). With --no-deps, NAME alone. For each service: if it is not supervised, check that s6-svscan runs on the scan directory, copy the definition into it (under a hidden name, then renamed into place, so the scanner never sees half a copy) and have s6-svscan supervise it. Then bring the logger and the service up and wait until the service is up, and ready when its definition has a notification-fd file: OK is printed only after the service has written its readiness line. A service without notification-fd that this start brought up must also stay up for 1 second: one whose run exits or is killed at once gets FAIL with how it ended (\"run exited with code 3\", \"run was killed by SIGKILL\"); its supervisor keeps restarting it. When the service is not up after 1 second and its run cannot be executed (missing, not executable, or a #! interpreter that does not exist), FAIL names the reason at once instead of waiting for the --timeout. If the service is not up (ready) within the --timeout, or fails permanently, print FAIL and the reason with its current status, and exit 1.",
    },
    CommandDoc {
        name: "stop",
        args: "",
        summary: "stop the running services that need it, then the service and its logger",
        text: "First the running services that need NAME (see DEPENDENCIES), directly or not (supervised, and up or wanted up), each before what it needs, one line \"Stopping X... OK\" each, then NAME; the first one that fails stops there (NAME keeps running when something that needs it could not be stopped). With --no-deps, NAME alone. For each service: bring it down and wait until it is down (up to --timeout), then its logger (up to 10 seconds). The service stays supervised: start brings it back. A service that is not supervised is already stopped: OK, exit 0 (as LSB init scripts). When the service is still up after the --timeout (it ignores its down signal, SIGTERM unless its down-signal file says otherwise), print FAIL and exit 1: it stays wanted down, so it is down as soon as it exits, and nothing is killed; the message gives its pid and the two ways to escalate: s6-svc -k SCANDIR/NAME now, or a timeout-kill file (milliseconds) in the definition so that its supervisor sends SIGKILL after that delay (as systemd does after TimeoutStopSec).",
    },
    CommandDoc {
        name: "status",
        args: "",
        summary: "show the service's status line (as s6-svstat -n)",
        text: "Print the status line of s6-svstat -n, for example \"up (pid 168) 3508103 seconds\" or \"down (signal 15) 6 seconds, normally up, ready 6 seconds\"; on a terminal, the last 10 lines of the log follow. When the service declares dependencies, a second line follows: \"needs:\" and its direct dependencies with their state, for example \"needs: db (up), net (unknown)\"; nothing is added for a service without dependencies. A service with merit's restart-delay, restart-limit or notify-socket files gets more lines: when its supervisor gave up, why (\"failed: 5 deaths in 10 s, last exit code 3\"); while it is held back, \"restart delay: 400 ms\"; what it announced on its notify socket: \"notify: ready\" (or reloading, stopping), \"status: TEXT\" (its last STATUS=), \"errno: 110 (Operation timed out)\" (its last ERRNO=, not 0), \"main pid: N\"; its cgroup and what it uses, \"cgroup: /sys/fs/cgroup/merit/web (memory 1.2 MiB, 3 pids, cpu 0.52 s)\", and how many processes it left behind, killed, when it last went down (\"left behind at the last stop: 2 processes, killed\"). Exit 0 when the service is up, 3 when it is down or not supervised (\"NAME is not a supervised service\" on standard error), 4 when its status cannot be read (for example \"Permission denied\" for a user who may not read SCANDIR/NAME/supervise, as s6-svstat) or NAME is not an available service. With --json, one JSON object instead (see JSON OUTPUT), with the same exit codes.",
    },
    CommandDoc {
        name: "restart",
        args: "",
        summary: "restart the service (with its ./restart script if it has one)",
        text: "When SCANDIR/NAME/restart is an executable file, run it (working directory SCANDIR/NAME); its exit status decides OK or FAIL. Otherwise, when the service is up, mark it wanted up and send its down signal (as s6-svc -r), wait until it is down, then until it is up as start does; when it is down, bring it up as start does. Whatever happens, the service is left wanted up: if it does not go down within the --timeout, FAIL is printed with the ways to escalate, and it starts again as soon as the old process exits. A service that is not supervised is started (LSB). The definition is not reloaded (see resup). Only NAME is restarted: the services that need it keep running, and what it needs is not started (as s6-rc).",
    },
    CommandDoc {
        name: "reload",
        args: "",
        summary: "send SIGHUP to the service",
        text: "Send SIGHUP to the service (as s6-svc -h) so that it reloads its configuration. A service that is not supervised is not running: exit 7.",
    },
    CommandDoc {
        name: "resup",
        args: "",
        summary: "stop and unsupervise the service, then supervise its current definition again",
        text: "Stop the service and its logger, take it out of supervision, remove its copy from the scan directory, then start it as start does from a fresh copy of the definition: an edited run script is picked up.",
    },
    CommandDoc {
        name: "unsup",
        args: "",
        summary: "stop the service and remove it from supervision",
        text: "Stop the service and its logger and take it out of supervision: the copy is hidden from the scanner, s6-svscan stops both supervisors, and the copy is removed once they have exited. Nothing of the service is left running. Succeeds when the service was not supervised.",
    },
    CommandDoc {
        name: "logs",
        args: "[-f] [-n N]",
        summary: "show the service's log with local times",
        text: "Print the last 10 lines (-n N: N lines) of the service's log, with TAI64N stamps shown as local times like s6-tai64nlocal (\"2024-05-01 12:00:00.123456789 message\"); with -f, keep printing lines as they are written. The log directory is the last word of the logger's run script naming a directory that holds a current file (an absolute path is also looked up under --root).",
    },
    CommandDoc {
        name: "needs",
        args: "",
        summary: "list what the service needs, directly or not, in start order",
        text: "Print the services NAME needs, directly or not, one per line, in the order start would start them; those NAME does not declare itself are followed by \" (indirect)\". Nothing is printed for a service without dependencies. With --json, an object {\"name\":NAME,\"direct\":[...],\"all\":[...]} (all in start order). Refused as start is (exit 6) when the dependencies cannot be ordered.",
    },
    CommandDoc {
        name: "needed-by",
        args: "",
        summary: "list the services that need the service, directly or not, in stop order",
        text: "Print the available services that need NAME, directly or not, one per line, in the order stop would stop them; those that do not declare NAME themselves are followed by \" (indirect)\". With --json, an object as for needs (all in stop order).",
    },
    CommandDoc {
        name: "graph",
        args: "",
        summary: "print the dependency graph of the enabled services (Graphviz dot)",
        text: "Print the dependency graph of the enabled services and of every service they need, enabled or not, in Graphviz dot: one node per service (dashed when it is not enabled but pulled in by one that is), an edge from each service to each service it needs; for example service graph | dot -Tsvg > graph.svg. With --json, an array of {\"name\":NAME,\"enabled\":true|false,\"needs\":[...]}, by name. The graph is checked as start does (exit 6).",
    },
];

/// A global option: long name, value placeholder (empty: none), text.
pub struct OptionDoc {
    pub name: &'static str,
    pub value: &'static str,
    pub summary: &'static str,
    pub text: &'static str,
}

/// Global options; they may appear anywhere before `--`.
pub const OPTIONS: &[OptionDoc] = &[
    OptionDoc {
        name: "--root",
        value: "DIR",
        summary: "prefix of the three directories",
        text: "Prefix the scan, available and enabled directories with DIR, so that a whole tree can live in a folder. Default: the value of MERIT_ROOT, else none.",
    },
    OptionDoc {
        name: "--scan-dir",
        value: "DIR",
        summary: "the directory s6-svscan watches",
        text: "The scan directory, watched by s6-svscan, holding the copies of supervised services (under --root). Default: /s6/run.",
    },
    OptionDoc {
        name: "--available-dir",
        value: "DIR",
        summary: "the service definitions",
        text: "The directory of service definitions (under --root). Default: /etc/s6/services/available.",
    },
    OptionDoc {
        name: "--enabled-dir",
        value: "DIR",
        summary: "the links of services started at boot",
        text: "The directory of links to the services started at boot (under --root). Default: /etc/s6/services/enabled.",
    },
    OptionDoc {
        name: "--timeout",
        value: "SECONDS",
        summary: "how long to wait for a service (default 30)",
        text: "How long start, stop, restart, resup and unsup wait for the service and for its supervisor, in seconds (fractions allowed). Default: 30.",
    },
    OptionDoc {
        name: "--json",
        value: "",
        summary: "JSON output for list, status, needs, needed-by and graph",
        text: "Print list, status, needs, needed-by and graph as JSON (see JSON OUTPUT).",
    },
    OptionDoc {
        name: "--no-deps",
        value: "",
        summary: "start or stop the service alone, not its dependencies",
        text: "start and stop act on NAME alone: what it needs is not started, what needs it is not stopped, and its dependency files are not read.",
    },
    OptionDoc {
        name: "--no-color",
        value: "",
        summary: "never colour the output",
        text: "Never colour the output (also --no-colour). Colour is only used when standard output is a terminal and NO_COLOR is unset or empty.",
    },
    OptionDoc { name: "--help", value: "", summary: "show the usage", text: "Print the usage and exit 0 (also -h)." },
];

/// Options of `logs`, after the name.
pub const LOGS_OPTIONS: &[(&str, &str)] = &[("-f", "follow the log"), ("-n", "number of lines (default 10)")];

/// The hidden options (for the install step and the completions), documented in the man page.
pub const HIDDEN_OPTIONS: &[(&str, &str)] = &[
    ("--generate man|bash|zsh|fish", "Print the man page service(8) or the completion script for that shell, and exit. The same files are written into the build's OUT_DIR, from the same table."),
    ("--list-names", "Print the names of the available services, one per line, honouring --root, --available-dir and MERIT_ROOT; the completions call it."),
];

/// Environment variables.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("MERIT_ROOT", "Default of --root."),
    ("NO_COLOR", "When set and not empty, never colour the output (https://no-color.org)."),
    ("TZ", "The time zone of the local times shown by logs and status."),
];

/// Exit codes (those of LSB init scripts).
pub const EXIT_CODES: &[(i32, &str)] = &[
    (0, "Success; for status: the service is up; for stop: also when the service was not supervised."),
    (1, "The action failed (FAIL is printed, then the reason on standard error): the service did not come up, went down right after it came up, cannot be executed, did not go down in time; the scan directory does not exist or no s6-svscan runs on it; enabled/NAME is not a symbolic link; a file could not be changed or opened for another reason than permissions (a lock or control FIFO that is a symbolic link or not of the right type, a read-only file system)."),
    (2, "Usage: unknown command or option, missing or extra argument, refused service name (empty, . or .., containing /, starting with ., containing control characters). Nothing is touched."),
    (3, "status: the service is not running (down, or not supervised)."),
    (4, "Insufficient permission (EACCES or EPERM) on the path named in the message, for any command (list still prints its table, with unknown for what it could not read). status: the status is unknown (it cannot be read, or NAME is not an available service)."),
    (5, "Any command but status: NAME is not an available service (LSB: program is not installed)."),
    (6, "start, stop, needs, needed-by, graph: the dependencies cannot be used (LSB: program is not configured), and nothing was started or stopped: a dependency cycle (printed in order, \"dependency cycle: a -> b -> c -> a\"), a needed service that is not available (\"web needs db, which is not an available service\"), an invalid name in dependencies.d or dependencies, an entry of dependencies.d or a dependencies file that is not a regular file, or a dependencies.d that is not a directory. (A dependency file that cannot be read for lack of permission gives 4.)"),
    (7, "reload: the service is not supervised (LSB: program is not running)."),
];

/// JSON fields: name, type, meaning.
pub const JSON_FIELDS: &[(&str, &str, &str)] = &[
    ("name", "string", "the service name"),
    ("status", "string", "\"up\", \"down\", \"failed\" (down for good: its supervisor gave up, see restart-limit), or \"unknown\" when not supervised"),
    ("pid", "number|null", "pid of the service when up"),
    ("seconds", "number|null", "seconds since it went up or down"),
    ("ready_seconds", "number|null", "seconds since it became ready (up and ready, or down with finish over); null when not ready"),
    ("normally_up", "bool|null", "false when the copy has a down file"),
    ("want_up", "bool|null", "whether the supervisor wants it up"),
    ("paused", "bool|null", "whether it is stopped by SIGSTOP (s6-svc -p)"),
    ("exit_code", "number|null", "exit code of the last run, when down after an exit"),
    ("signal", "number|null", "number of the signal that killed the last run, when down after a signal"),
    ("onboot", "string", "\"enabled\" or \"disabled\""),
];

/// merit's own JSON fields, after onboot, present only for services with the files that enable
/// them: name, type, meaning.
pub const JSON_EXTRA_FIELDS: &[(&str, &str, &str)] = &[
    ("failed", "string|null", "why the supervisor gave up, as status prints it (restart-limit); null when it did not"),
    ("restart_delay_ms", "number", "the delay before the last restart (restart-delay), 0 when none"),
    ("notify", "string|null", "the last state the service announced on its notify socket: \"ready\", \"reloading\" or \"stopping\""),
    ("notify_status", "string|null", "the last STATUS= text it sent (control characters shown as ?)"),
    ("notify_errno", "number|null", "the last ERRNO= it sent (not 0), its failure reason as an errno"),
    ("main_pid", "number|null", "the MAINPID= it sent from one of its own processes"),
    ("cgroup", "string|null", "the service's own cgroup (see the cgroup file), null when it has none"),
    ("cgroup_left", "number|null", "how many processes were left in the cgroup, and killed, when the service last went down"),
    ("memory_current", "number|null", "memory.current of the cgroup, bytes (null without the memory controller)"),
    ("pids_current", "number|null", "pids.current of the cgroup (null without the pids controller)"),
    ("cpu_usec", "number|null", "usage_usec of the cgroup's cpu.stat: CPU time in microseconds"),
];

/// Files.
pub const FILES: &[(&str, &str)] = &[
    ("/etc/s6/services/available/NAME", "The definition of NAME: a s6 service directory with an executable run, optionally log/run, finish, notification-fd, down, restart, and merit's restart-delay (MIN MAX in milliseconds: the delay after each quick death doubles from MIN up to MAX, and is reset once the service stays up for MAX) and restart-limit (N SECONDS: after N deaths within SECONDS the supervisor gives up: the service stays down, want down, and list shows it failed until start or s6-svc -u; both files are read again at each start or s6-svc -u), notify-socket (empty: run gets NOTIFY_SOCKET, an sd_notify socket at supervise/notify; READY=1 marks it ready as a notification-fd line does; add a notification-fd file too for the real s6-svc -wU, which checks for it) and watchdog-timeout (milliseconds: with notify-socket, a run that sends no WATCHDOG=1 for that long is restarted); cgroup (empty) or any of the limit files memory-max, memory-high, pids-max, cpu-max, cpu-weight, io-weight (written to the cgroup interface file of the same name with a dot) make the service run in its own cgroup v2, MOUNT/merit/NAME (MOUNT is /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts; merit is replaced by the relative path in MERIT_CGROUP_BASE in the supervisor's environment), where everything left once run has died and finish has run is killed; without a writable cgroup2 hierarchy the supervisor warns and runs the service without one."),
    ("/etc/s6/services/available/NAME/dependencies.d/", "One empty regular file per service NAME needs, named after it (see DEPENDENCIES)."),
    ("/etc/s6/services/available/NAME/dependencies", "The older form: one needed service per line (see DEPENDENCIES)."),
    ("/etc/s6/services/enabled/NAME", "A link to ../available/NAME when NAME starts at boot (rc.init copies these into the scan directory)."),
    ("/s6/run/NAME", "The supervised copy of NAME; its supervise/status is read for list and status, supervise/control is written."),
    ("/s6/run/.s6-svscan/control", "The control FIFO of s6-svscan, used to rescan (a) and to drop removed services (h)."),
    ("/s6/run/.service-NAME.lock", "Lock serialising concurrent invocations of service on NAME."),
];

/// The sections the man page must have (its tests look for each in the roff source and in
/// groff's rendering).
pub const MAN_SECTIONS: &[&str] =
    &["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "OUTPUT", "JSON OUTPUT", "EXIT STATUS", "ENVIRONMENT", "FILES"];

/// Commands that take no service name.
pub const NAMELESS: &[&str] = &["list", "graph"];

/// Whether the command `name` acts on one named service.
pub fn takes_name(name: &str) -> bool {
    !NAMELESS.contains(&name)
}

/// The DEPENDENCIES section of the man page, one paragraph per entry.
pub const DEPENDENCIES: &[&str] = &[
    "A service definition may say which services it needs, in the source format of s6-rc: a directory dependencies.d holding one file per needed service, named after it (its content is ignored: an empty file), or the older file dependencies, one name per line (whitespace at the start of a line is ignored, trailing whitespace is not; empty lines and lines starting with # are ignored). Both may be present: the needs are their union. Entries of dependencies.d starting with a dot are ignored; every other entry must be a regular file (not a directory, nor a symbolic link). A needed name must be a valid service name and the name of an available service. The real s6 ignores both files: a tree with dependencies still works with s6-svscan and s6-supervise alone, and needs no compile step.",
    "start starts what a service needs first, each service once it is up, and ready when it declares notification-fd; stop stops the running services that need it first, in the reverse order; restart, reload, resup and unsup act on the service alone. When a needed service dies and its supervisor restarts it, the services that need it keep running (as with s6-rc): a service that cannot live without another should exit, and be restarted by its own supervisor, when it loses it.",
    "At boot, init copies into the scan directory every enabled service and every service they need, directly or not, that is not enabled (pulled in from available, one line \"init: pulling in NAME (needed by A)\" on the catch-all log each), what is needed first. s6-supervise then holds the first start of a service that declares dependencies until each service it needs (its sibling SCANDIR/NEEDED) is up, and ready when that one has a notification-fd file: the service shows as down, wanted up, meanwhile; s6-svc -d cancels the held start, and other commands and signals work as usual. While a start is held, the event directory of the service waited for holds one entry merit-gate:@LABEL:XXXXXX for it (removed when the start goes); s6's tools ignore it. Services that need nothing start at once, together, as before. The gate applies to a service's first start only: a restart after a death (or an s6-svc -u after the service has run) does not wait, so a dependency restarted by its supervisor leaves the services that need it running. A needed service that is not in the scan directory, or that is wanted down (s6-svc -d, a down file), is not coming up by itself: it is not waited for, with a warning naming both services (so service --no-deps NAME start starts NAME alone). Bad configuration never blocks a boot: a service in a dependency cycle, or that needs a service which is not available, starts without waiting, with a warning naming the cycle (\"dependency cycle: a -> b -> a\") or the missing service; its copy in the scan directory loses its dependency files, the definition is left as it is (in a scan directory that init's boot did not fill, s6-supervise finds a cycle of held services once a start has been held for 1 second, and starts it with the same warning). A logger (NAME/log) is never held.",
    "At shutdown (init shutdown, telinit 0 or 6), the services are stopped in reverse dependency order: first those that nothing needs (the services without dependencies among them), then, once each of them is down, the services only they needed, and so on, each layer together. Each service gets its own timeout-kill (else what is left of the grace period) before it is killed, and the whole within the grace period, as before; the loggers stop last, as before. A tree without dependencies shuts down exactly as before; a cycle is reported and the services are stopped together.",
    "Cycles, missing services, invalid names and entries that are not regular files are refused before anything starts, with the services named (exit 6). start checks NAME and everything it needs; stop checks the supervised services and what they need, so that a broken definition elsewhere does not keep a service from stopping; needs, needed-by and graph check what they print. service list never reads the dependency files.",
];

/// The usage text (printed with -h, and on standard error on a usage error).
pub fn usage() -> String {
    let mut s = String::from("usage: service [OPTIONS] COMMAND [NAME] | service [OPTIONS] NAME COMMAND\n\n");
    for c in COMMANDS {
        let left = if !takes_name(c.name) {
            format!("service {}", c.name)
        } else if c.args.is_empty() {
            format!("service NAME {}", c.name)
        } else {
            format!("service NAME {} {}", c.name, c.args)
        };
        s += &format!("  {left:<31}{}\n", c.summary);
    }
    s += "\noptions:\n";
    for o in OPTIONS {
        let left = if o.value.is_empty() { o.name.to_string() } else { format!("{} {}", o.name, o.value) };
        s += &format!("  {left:<31}{}\n", o.summary);
    }
    s += "\nexit: 0 ok, 1 failed, 2 usage, 3 status: not running, 4 permission denied / status unknown,\n      5 not an available service, 6 unusable dependencies, 7 reload: not running (see service(8))\n";
    s += "environment: MERIT_ROOT (as --root), NO_COLOR; see service(8)\n";
    s
}

/// Roff text: backslashes, hyphens (as \-), and a leading . or ' escaped.
pub fn roff(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\e"),
            '-' => o.push_str("\\-"),
            c => o.push(c),
        }
    }
    if o.starts_with('.') || o.starts_with('\'') {
        o.insert_str(0, "\\&");
    }
    o
}

/// The man page service(8), in roff (man macros).
pub fn man_page(version: &str) -> String {
    let mut m = String::new();
    m += &format!(".TH SERVICE 8 \"\" \"merit {}\" \"System Administration\"\n", roff(version));
    m += ".nh\n.ad l\n";
    m += ".SH NAME\nservice \\- manage the services of a Mere\\-style s6 tree\n";
    m += ".SH SYNOPSIS\n.B service\n[\\fIOPTIONS\\fR]\n.B list\n.br\n.B service\n[\\fIOPTIONS\\fR]\n.B graph\n.br\n.B service\n[\\fIOPTIONS\\fR]\n\\fINAME\\fR \\fICOMMAND\\fR\n.br\n.B service\n[\\fIOPTIONS\\fR]\n\\fICOMMAND\\fR \\fINAME\\fR\n";
    m += ".SH DESCRIPTION\n";
    m += &roff("service is the friendly front end of merit (and of s6) on a tree laid out as in Mere Linux: service definitions in /etc/s6/services/available, links to those started at boot in /etc/s6/services/enabled, and the supervised copies in the scan directory /s6/run watched by s6-svscan. It reads the supervisors' status files and writes their control FIFOs itself, so it works over merit's s6-supervise and s6-svscan as over the real s6.");
    m += "\n.PP\n";
    m += &roff("Both argument orders work: service NAME COMMAND (as in the Mere transcript) and service COMMAND NAME (as Mere's script). When the second word is a command, the first is the name. NAME must be the name of a directory of the available directory that holds an executable run file; otherwise service prints \"NAME is not an available service\" and exits 5. Names that are empty, . or .., contain a /, start with a . or contain control characters are refused (exit 2) before any file is touched.");
    m += "\n.PP\n";
    m += &roff("Actions print a line such as \"Starting ntpd... OK\"; on failure FAIL, then the reason on standard error. Exit codes follow LSB init scripts (see EXIT STATUS). status and reload print \"NAME is not a supervised service\" when no supervisor runs on SCANDIR/NAME; stop then succeeds and restart starts the service.");
    m += "\n.SH COMMANDS\n";
    for c in COMMANDS {
        m += &format!(".TP\n.B {}", c.name);
        if !c.args.is_empty() {
            m += &format!(" \\fR{}\\fR", roff(c.args));
        }
        m += "\n";
        m += &roff(c.text);
        m += "\n";
    }
    m += ".SH DEPENDENCIES\n";
    for (i, p) in DEPENDENCIES.iter().enumerate() {
        if i > 0 {
            m += ".PP\n";
        }
        m += &roff(p);
        m += "\n";
    }
    m += ".SH OPTIONS\nOptions may appear anywhere before \\fB\\-\\-\\fR; \\fB\\-\\-\\fIname\\fB=\\fIvalue\\fR is accepted too.\n";
    for o in OPTIONS {
        m += &format!(".TP\n.B {}", roff(o.name));
        if !o.value.is_empty() {
            m += &format!(" \\fI{}\\fR", roff(o.value));
        }
        m += "\n";
        m += &roff(o.text);
        m += "\n";
    }
    m += ".SS Options of logs\n";
    for (o, t) in LOGS_OPTIONS {
        let v = if *o == "-n" { " \\fIN\\fR" } else { "" };
        m += &format!(".TP\n.B {}{}\n{}\n", roff(o), v, roff(t));
    }
    m += ".SS Hidden options (for packagers)\n";
    for (o, t) in HIDDEN_OPTIONS {
        m += &format!(".TP\n.B {}\n{}\n", roff(o), roff(t));
    }
    m += ".SH OUTPUT\n";
    m += &roff("list prints a blank line, a header, and one line per service in three columns starting at 0, 19 and 39 (a longer name is followed by one space), then a blank line:");
    m += "\n.PP\n.nf\n.RS\n";
    m += "Service            Status              OnBoot\n~~~~~~~            ~~~~~~~~            ~~~~~~~~\ndropbear           up                  enabled\nklogd              down                disabled\n";
    m += ".RE\n.fi\n.SH JSON OUTPUT\n";
    m += &roff("With --json, list prints an array and status prints one object. Each object has these fields, in this order; a field that does not apply is null (all but name, status and onboot when the service is not supervised):");
    m += "\n";
    for (f, ty, t) in JSON_FIELDS {
        m += &format!(".TP\n.B {}\n({}) {}\n", roff(f), roff(ty), roff(t));
    }
    m += ".PP\n";
    m += &roff("These fields follow, only for a service with restart-delay, restart-limit, notify-socket, cgroup or a cgroup limit file in its directory:");
    m += "\n";
    for (f, ty, t) in JSON_EXTRA_FIELDS {
        m += &format!(".TP\n.B {}\n({}) {}\n", roff(f), roff(ty), roff(t));
    }
    m += ".PP\n";
    m += &roff("needs and needed-by print one object: name (string), direct (array of the services declared by NAME, or declaring NAME), all (array of every service, direct or not, in start order for needs and in stop order for needed-by). graph prints an array of objects, by name: name (string), enabled (bool: false for a service pulled in by an enabled one), needs (array: its direct dependencies).");
    m += "\n";
    m += ".SH EXIT STATUS\n";
    for (c, t) in EXIT_CODES {
        m += &format!(".TP\n.B {c}\n{}\n", roff(t));
    }
    m += ".SH ENVIRONMENT\n";
    for (e, t) in ENVIRONMENT {
        m += &format!(".TP\n.B {}\n{}\n", roff(e), roff(t));
    }
    m += ".SH FILES\nPaths are shown with the default directories and no root.\n";
    for (f, t) in FILES {
        m += &format!(".TP\n.I {}\n{}\n", roff(f), roff(t));
    }
    m += ".SH NOTES\n";
    m += &roff("Concurrent invocations on one service are serialised by a lock; on different services they run in parallel. Every change is atomic for readers: copies enter the scan directory by rename, links are replaced by rename, and a copy leaves supervision by being renamed to a hidden name first. On a read-only tree nothing is changed: the message names the path that could not be written. Run as root on a tree that belongs to another user, service does not let that user's files turn into root's: a copy into the scan directory is built through directory descriptors without following symbolic links, the set-user-ID and set-group-ID bits of files root does not own are not copied, and the lock file and the control FIFOs are opened without following a symbolic link and refused unless they are a regular file and FIFOs.");
    m += "\n.SH EXAMPLES\n.nf\n.RS\n";
    m += "$ service list\n$ service klogd disable\nDisabling klogd from launching at boot... OK\n$ service klogd status\nup (pid 168) 3508103 seconds\n$ service stop klogd\nStopping klogd... OK\n$ service web start\nStarting db... OK\nStarting web... OK\n$ service db stop\nStopping web... OK\nStopping db... OK\n$ service graph | dot \\-Tsvg > graph.svg\n$ service \\-\\-json list\n$ service \\-\\-root /mnt/sysroot ntpd enable\n";
    m += ".RE\n.fi\n.SH SEE ALSO\n.BR s6\\-svscan (8),\n.BR s6\\-supervise (8),\n.BR s6\\-svc (8),\n.BR s6\\-svstat (8),\n.BR s6\\-log (8),\n.BR s6\\-tai64nlocal (8)\n";
    m
}

/// Names of the options that take a value.
fn valued_options() -> Vec<&'static str> {
    OPTIONS.iter().filter(|o| !o.value.is_empty()).map(|o| o.name).collect()
}

/// Names of the directory options (passed on to `--list-names`).
fn dir_options() -> Vec<&'static str> {
    OPTIONS.iter().filter(|o| o.value == "DIR").map(|o| o.name).collect()
}

/// Single-quoted for sh/zsh/fish (no ' in our texts, but be safe).
fn squote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// bash completion: commands, options, and service names from `service [dir options] --list-names`.
pub fn bash_completion() -> String {
    let cmds: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
    let named: Vec<&str> = COMMANDS.iter().filter(|c| takes_name(c.name)).map(|c| c.name).collect();
    let mut opts: Vec<&str> = OPTIONS.iter().map(|o| o.name).collect();
    opts.push("--no-colour");
    let dirs = dir_options().join("|");
    let valued_other: Vec<&str> = valued_options().into_iter().filter(|o| !dir_options().contains(o)).collect();
    let mut s = String::new();
    s += "# bash completion for service(8) (merit). Generated from the command table; do not edit.\n";
    s += "_merit_service() {\n";
    s += "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n";
    s += &format!("    local cmds='{}'\n", cmds.join(" "));
    s += &format!("    local named=' {} '\n", named.join(" "));
    s += &format!("    local nameless=' {} '\n", NAMELESS.join(" "));
    s += &format!("    local opts='{}'\n", opts.join(" "));
    s += "    COMPREPLY=()\n";
    s += "    case $prev in\n";
    s += &format!("        {dirs}) COMPREPLY=($(compgen -d -- \"$cur\")); return 0 ;;\n");
    s += &format!("        {}) return 0 ;;\n", valued_other.join("|"));
    s += "    esac\n";
    s += "    local i w v pass=() pos=()\n";
    s += "    for ((i = 1; i < COMP_CWORD; i++)); do\n";
    s += "        w=${COMP_WORDS[i]}\n";
    s += "        case $w in\n";
    s += &format!("            {dirs})\n");
    s += "                v=${COMP_WORDS[i+1]}\n";
    s += "                [[ $v == '~'* ]] && v=$HOME${v:1}\n";
    s += "                pass+=(\"$w\" \"$v\"); ((i++)) ;;\n";
    s += &format!("            {}) pass+=(\"$w\") ;;\n", dir_options().iter().map(|o| format!("{o}=*")).collect::<Vec<_>>().join("|"));
    s += &format!("            {}) ((i++)) ;;\n", valued_other.join("|"));
    s += "            -*) ;;\n";
    s += "            *) pos+=(\"$w\") ;;\n";
    s += "        esac\n";
    s += "    done\n";
    s += "    if [[ $cur == -* && ${#pos[@]} -lt 2 ]]; then\n";
    s += "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")); return 0\n";
    s += "    fi\n";
    s += "    local names\n";
    s += "    case ${#pos[@]} in\n";
    s += "        0)\n";
    s += "            names=$(\"${COMP_WORDS[0]}\" \"${pass[@]}\" --list-names 2>/dev/null)\n";
    s += "            COMPREPLY=($(compgen -W \"$cmds $names\" -- \"$cur\")) ;;\n";
    s += "        1)\n";
    s += "            if [[ $named == *\" ${pos[0]} \"* ]]; then\n";
    s += "                names=$(\"${COMP_WORDS[0]}\" \"${pass[@]}\" --list-names 2>/dev/null)\n";
    s += "                COMPREPLY=($(compgen -W \"$names\" -- \"$cur\"))\n";
    s += "            elif [[ $nameless != *\" ${pos[0]} \"* ]]; then\n";
    s += "                COMPREPLY=($(compgen -W \"$named\" -- \"$cur\"))\n";
    s += "            fi ;;\n";
    s += "        *)\n";
    s += "            if [[ \" ${pos[*]} \" == *' logs '* ]]; then\n";
    s += "                COMPREPLY=($(compgen -W '-f -n' -- \"$cur\"))\n";
    s += "            fi ;;\n";
    s += "    esac\n";
    s += "    return 0\n";
    s += "}\n";
    s += "complete -F _merit_service service\n";
    s
}

/// zsh completion (an autoloadable `_service` file: `#compdef service`, then the function body).
pub fn zsh_completion() -> String {
    let dirs = dir_options().join("|");
    let valued_other: Vec<&str> = valued_options().into_iter().filter(|o| !dir_options().contains(o)).collect();
    let mut s = String::new();
    s += "#compdef service\n";
    s += "# zsh completion for service(8) (merit). Generated from the command table; do not edit.\n";
    s += "local -a cmds named opts pass pos names\n";
    s += &format!("local -a nameless=({})\n", NAMELESS.join(" "));
    s += "local i w v cur=${words[CURRENT]} prev=${words[CURRENT-1]}\n";
    s += "cmds=(\n";
    for c in COMMANDS {
        s += &format!("    {}\n", squote(&format!("{}:{}", c.name, c.summary)));
    }
    s += ")\n";
    s += "named=(\n";
    for c in COMMANDS.iter().filter(|c| takes_name(c.name)) {
        s += &format!("    {}\n", squote(&format!("{}:{}", c.name, c.summary)));
    }
    s += ")\n";
    s += "opts=(\n";
    for o in OPTIONS {
        s += &format!("    {}\n", squote(&format!("{}:{}", o.name, o.summary)));
    }
    s += ")\n";
    s += "case $prev in\n";
    s += &format!("    {dirs}) _files -/; return ;;\n");
    s += &format!("    {}) _message 'seconds'; return ;;\n", valued_other.join("|"));
    s += "esac\n";
    s += "for (( i = 2; i < CURRENT; i++ )); do\n";
    s += "    w=${words[i]}\n";
    s += "    case $w in\n";
    s += &format!("        {dirs}) v=${{words[i+1]}}; pass+=($w ${{v/#\\~/$HOME}}); (( i++ )) ;;\n");
    s += &format!("        {}) pass+=($w) ;;\n", dir_options().iter().map(|o| format!("{o}=*")).collect::<Vec<_>>().join("|"));
    s += &format!("        {}) (( i++ )) ;;\n", valued_other.join("|"));
    s += "        -*) ;;\n";
    s += "        *) pos+=($w) ;;\n";
    s += "    esac\n";
    s += "done\n";
    s += "if [[ $cur == -* && ${#pos} -lt 2 ]]; then\n";
    s += "    _describe -t options 'option' opts\n";
    s += "    return\n";
    s += "fi\n";
    s += "case ${#pos} in\n";
    s += "    0)\n";
    s += "        names=(${(f)\"$(${words[1]} $pass --list-names 2>/dev/null)\"})\n";
    s += "        _describe -t commands 'command' cmds\n";
    s += "        (( ${#names} )) && compadd -X 'service' -a names ;;\n";
    s += "    1)\n";
    s += "        if (( ${named[(I)${pos[1]}:*]} )); then\n";
    s += "            names=(${(f)\"$(${words[1]} $pass --list-names 2>/dev/null)\"})\n";
    s += "            (( ${#names} )) && compadd -X 'service' -a names\n";
    s += "        elif (( ! ${nameless[(I)${pos[1]}]} )); then\n";
    s += "            _describe -t commands 'command' named\n";
    s += "        fi ;;\n";
    s += "    *)\n";
    s += "        if (( ${pos[(I)logs]} )); then\n";
    s += "            compadd -- -f -n\n";
    s += "        fi ;;\n";
    s += "esac\n";
    s
}

/// fish completion.
pub fn fish_completion() -> String {
    let dirs: Vec<&str> = dir_options();
    let valued_other: Vec<&str> = valued_options().into_iter().filter(|o| !dir_options().contains(o)).collect();
    let named: Vec<&str> = COMMANDS.iter().filter(|c| takes_name(c.name)).map(|c| c.name).collect();
    let mut s = String::new();
    s += "# fish completion for service(8) (merit). Generated from the command table; do not edit.\n";
    s += "function __merit_service_words --argument-names what --description 'service: the directory options typed so far (pass) or the positional words (pos)'\n";
    s += "    set -l toks (commandline -opc)\n";
    s += "    set -l i 2\n";
    s += "    while test $i -le (count $toks)\n";
    s += "        switch $toks[$i]\n";
    s += &format!("            case {}\n", dirs.join(" "));
    s += "                set -l j (math $i + 1)\n";
    s += "                if test $what = pass; and test $j -le (count $toks)\n";
    s += "                    printf '%s\\n' $toks[$i] $toks[$j]\n";
    s += "                end\n";
    s += "                set i (math $i + 2)\n";
    s += "                continue\n";
    s += &format!("            case {}\n", dirs.iter().map(|o| format!("'{o}=*'")).collect::<Vec<_>>().join(" "));
    s += "                if test $what = pass\n";
    s += "                    printf '%s\\n' $toks[$i]\n";
    s += "                end\n";
    s += &format!("            case {}\n", valued_other.join(" "));
    s += "                set i (math $i + 2)\n";
    s += "                continue\n";
    s += "            case '-*'\n";
    s += "            case '*'\n";
    s += "                if test $what = pos\n";
    s += "                    printf '%s\\n' $toks[$i]\n";
    s += "                end\n";
    s += "        end\n";
    s += "        set i (math $i + 1)\n";
    s += "    end\n";
    s += "end\n";
    s += "function __merit_service_names --description 'service: available service names'\n";
    s += "    set -l toks (commandline -opc)\n";
    s += "    $toks[1] (__merit_service_words pass) --list-names 2>/dev/null\n";
    s += "end\n";
    s += "function __merit_service_state --description 'service: what the next word is: first, name, command, logs or none'\n";
    s += "    set -l pos (__merit_service_words pos)\n";
    s += &format!("    set -l named {}\n", named.join(" "));
    s += "    switch (count $pos)\n";
    s += "        case 0\n";
    s += "            echo first\n";
    s += "        case 1\n";
    s += "            if contains -- $pos[1] $named\n";
    s += "                echo name\n";
    s += &format!("            else if not contains -- $pos[1] {}\n", NAMELESS.join(" "));
    s += "                echo command\n";
    s += "            else\n";
    s += "                echo none\n";
    s += "            end\n";
    s += "        case '*'\n";
    s += "            if contains -- logs $pos\n";
    s += "                echo logs\n";
    s += "            else\n";
    s += "                echo none\n";
    s += "            end\n";
    s += "    end\n";
    s += "end\n";
    s += "complete -c service -f\n";
    for o in OPTIONS {
        let long = o.name.trim_start_matches("--");
        let mut line = format!("complete -c service -n 'not contains -- (__merit_service_state) none logs' -l {long}");
        if o.name == "--help" {
            line += " -s h";
        }
        if o.value == "DIR" {
            line += " -r -a '(__fish_complete_directories)'";
        } else if !o.value.is_empty() {
            line += " -x";
        }
        line += &format!(" -d {}", squote(o.summary));
        s += &line;
        s += "\n";
    }
    for c in COMMANDS {
        s += &format!(
            "complete -c service -n 'test (__merit_service_state) = first' -a {} -d {}\n",
            c.name,
            squote(c.summary)
        );
    }
    s += "complete -c service -n 'test (__merit_service_state) = first' -a '(__merit_service_names)' -d service\n";
    s += "complete -c service -n 'test (__merit_service_state) = name' -a '(__merit_service_names)' -d service\n";
    for c in COMMANDS.iter().filter(|c| takes_name(c.name)) {
        s += &format!(
            "complete -c service -n 'test (__merit_service_state) = command' -a {} -d {}\n",
            c.name,
            squote(c.summary)
        );
    }
    s += "complete -c service -n 'test (__merit_service_state) = logs' -s f -d 'follow the log'\n";
    s += "complete -c service -n 'test (__merit_service_state) = logs' -s n -x -d 'number of lines'\n";
    s
}
