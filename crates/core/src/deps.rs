//! Service dependencies, in the source format of s6-rc, read without a compile step.
//!
//! A service definition may say what it needs:
//!
//! * `dependencies.d/`: one file per needed service, named after it (its content is ignored;
//!   s6-rc-compile creates them empty). Entries starting with a dot are ignored, as s6-rc does.
//!   Every other entry must be a regular file.
//! * `dependencies`: the older form, one name per line. Whitespace at the start of a line is
//!   ignored (trailing whitespace is part of the name, as in s6-rc); empty lines and lines
//!   starting with `#` are ignored.
//!
//! Both may be present: the needs are their union. The real s6 ignores both files, so a tree
//! stays usable by s6-svscan and s6-supervise.
//!
//! This module is pure: the caller reads the directory (`merit_programs::tree`) and hands over
//! what it found. It validates names, builds a [`Graph`] over service names, finds cycles (in
//! order), computes what a service needs and what needs it (transitively), start and stop
//! orders and boot layers, and renders the graph as Graphviz `dot` and JSON.

use crate::service::{check_name, json_string};
use std::collections::{BTreeMap, BTreeSet};

/// The directory form.
pub const DIR: &str = "dependencies.d";
/// The older one-name-per-line file.
pub const FILE: &str = "dependencies";

/// What an entry of `dependencies.d/` is (from `lstat`: a symbolic link is not followed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Regular,
    Directory,
    Symlink,
    Fifo,
    Socket,
    Device,
}

impl EntryKind {
    pub fn describe(self) -> &'static str {
        match self {
            EntryKind::Regular => "a regular file",
            EntryKind::Directory => "a directory",
            EntryKind::Symlink => "a symbolic link",
            EntryKind::Fifo => "a FIFO",
            EntryKind::Socket => "a socket",
            EntryKind::Device => "a device",
        }
    }
}

/// Why a dependency declaration or a graph is refused. Every variant names the services.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DepError {
    /// `service` declares `entry` (in `DIR` or `FILE`), which is not a valid service name.
    BadName { service: String, entry: String, source: &'static str, reason: &'static str },
    /// `service`'s `entry` (`dependencies.d/NAME`, or `dependencies`) is not a regular file.
    NotRegular { service: String, entry: String, kind: EntryKind },
    /// `service`'s `dependencies.d` is not a directory.
    NotDirectory { service: String, kind: EntryKind },
    /// `service` needs `needed`, which is not an available service.
    Missing { service: String, needed: String },
    /// A cycle, in order, its first service repeated at the end: `a -> b -> a`.
    Cycle(Vec<String>),
}

impl DepError {
    /// The message (without the program name).
    pub fn message(&self) -> String {
        match self {
            DepError::BadName { service, entry, source, reason } => {
                format!("{service}: invalid service name {entry:?} in {source}: {reason}")
            }
            DepError::NotRegular { service, entry, kind } => {
                format!("{service}: {entry} is {}, not a regular file", kind.describe())
            }
            DepError::NotDirectory { service, kind } => {
                format!("{service}: {DIR} is {}, not a directory", kind.describe())
            }
            DepError::Missing { service, needed } => {
                format!("{service} needs {needed}, which is not an available service")
            }
            DepError::Cycle(c) => format!("dependency cycle: {}", c.join(" -> ")),
        }
    }

    /// The services the error is about.
    pub fn services(&self) -> Vec<&str> {
        match self {
            DepError::BadName { service, .. }
            | DepError::NotRegular { service, .. }
            | DepError::NotDirectory { service, .. } => vec![service.as_str()],
            DepError::Missing { service, needed } => vec![service.as_str(), needed.as_str()],
            DepError::Cycle(c) => c.iter().map(|s| s.as_str()).collect(),
        }
    }
}

fn bad_name(service: &str, entry: &str, source: &'static str) -> Option<DepError> {
    check_name(entry).err().map(|e| DepError::BadName {
        service: service.to_string(),
        entry: entry.to_string(),
        source,
        reason: e.reason(),
    })
}

/// The names in the text of a `dependencies` file.
pub fn parse_file(service: &str, text: &str) -> Result<Vec<String>, DepError> {
    let mut v = Vec::new();
    for line in text.split('\n') {
        let name = line.trim_start_matches([' ', '\t']);
        if name.is_empty() || name.starts_with('#') {
            continue;
        }
        if let Some(e) = bad_name(service, name, FILE) {
            return Err(e);
        }
        v.push(name.to_string());
    }
    Ok(v)
}

/// The names of a `dependencies.d` listing (entry name, kind; a name that is not UTF-8 is
/// given lossily and refused). Dot-entries are ignored.
pub fn parse_dir(service: &str, entries: &[(String, EntryKind)]) -> Result<Vec<String>, DepError> {
    let mut v = Vec::with_capacity(entries.len());
    for (name, kind) in entries {
        if name.starts_with('.') {
            continue;
        }
        if name.contains('\u{fffd}') {
            return Err(DepError::BadName {
                service: service.to_string(),
                entry: name.clone(),
                source: DIR,
                reason: "a service name must be valid UTF-8",
            });
        }
        if let Some(e) = bad_name(service, name, DIR) {
            return Err(e);
        }
        if *kind != EntryKind::Regular {
            return Err(DepError::NotRegular {
                service: service.to_string(),
                entry: format!("{DIR}/{name}"),
                kind: *kind,
            });
        }
        v.push(name.clone());
    }
    Ok(v)
}

/// What a service declares: the union of `dependencies.d` (when present) and `dependencies`
/// (when present), sorted, without duplicates.
pub fn declared(
    service: &str,
    dir: Option<&[(String, EntryKind)]>,
    file: Option<&str>,
) -> Result<Vec<String>, DepError> {
    // A vector sorted and deduplicated rather than a set: a supervisor reads this at start-up,
    // and a set's node allocation is code nothing else it runs needs (a page fault more).
    let mut v = match dir {
        Some(entries) => parse_dir(service, entries)?,
        None => Vec::new(),
    };
    if let Some(text) = file {
        v.extend(parse_file(service, text)?);
    }
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

/// A dependency graph over service names: each node with its direct needs (sorted, no
/// duplicates). An edge may point at a name that is not a node: that service is missing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Graph {
    nodes: BTreeMap<String, Vec<String>>,
}

impl Graph {
    pub fn new() -> Graph {
        Graph::default()
    }

    /// Adds (or replaces) `name` with its direct needs.
    pub fn add(&mut self, name: &str, needs: &[String]) {
        let set: BTreeSet<String> = needs.iter().cloned().collect();
        self.nodes.insert(name.to_string(), set.into_iter().collect());
    }

    pub fn contains(&self, name: &str) -> bool {
        self.nodes.contains_key(name)
    }

    /// Every node, sorted by name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(|s| s.as_str())
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The direct needs of `name` (empty when it is not a node).
    pub fn direct_needs(&self, name: &str) -> &[String] {
        self.nodes.get(name).map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// The nodes that need `name` directly, sorted.
    pub fn direct_needed_by(&self, name: &str) -> Vec<String> {
        self.nodes.iter().filter(|(_, n)| n.iter().any(|x| x == name)).map(|(k, _)| k.clone()).collect()
    }

    /// The first missing dependency (by service name, then needed name) among `scope`'s
    /// nodes, or among all nodes when `scope` is None.
    pub fn missing(&self, scope: Option<&BTreeSet<String>>) -> Option<DepError> {
        for (name, needs) in &self.nodes {
            if scope.is_some_and(|s| !s.contains(name)) {
                continue;
            }
            if let Some(n) = needs.iter().find(|n| !self.nodes.contains_key(n.as_str())) {
                return Some(DepError::Missing { service: name.clone(), needed: n.clone() });
            }
        }
        None
    }

    /// A cycle, in order, its first service (the smallest name on it) repeated at the end.
    /// Deterministic: the depth-first search starts from the nodes in name order and follows
    /// the needs in name order.
    pub fn find_cycle(&self) -> Option<Vec<String>> {
        // 0: not seen, 1: on the current path, 2: done.
        let mut mark: BTreeMap<&str, u8> = BTreeMap::new();
        for start in self.nodes.keys() {
            if mark.get(start.as_str()).copied().unwrap_or(0) != 0 {
                continue;
            }
            // Iterative DFS: a stack of (node, index of the next need to follow).
            let mut stack: Vec<(&str, usize)> = vec![(start.as_str(), 0)];
            mark.insert(start.as_str(), 1);
            while let Some(&mut (node, ref mut i)) = stack.last_mut() {
                let needs = self.direct_needs(node);
                if *i < needs.len() {
                    let next = needs[*i].as_str();
                    *i += 1;
                    if !self.nodes.contains_key(next) {
                        continue;
                    }
                    match mark.get(next).copied().unwrap_or(0) {
                        0 => {
                            mark.insert(next, 1);
                            stack.push((next, 0));
                        }
                        1 => {
                            let at = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                            let mut cycle: Vec<String> = stack[at..].iter().map(|(n, _)| n.to_string()).collect();
                            // Start it at its smallest name, so that it reads the same whatever
                            // the search started from.
                            let min = cycle.iter().enumerate().min_by(|a, b| a.1.cmp(b.1)).map_or(0, |m| m.0);
                            cycle.rotate_left(min);
                            cycle.push(cycle[0].clone());
                            return Some(cycle);
                        }
                        _ => {}
                    }
                } else {
                    mark.insert(node, 2);
                    stack.pop();
                }
            }
        }
        None
    }

    /// Missing dependencies within `scope` (all nodes when None), then cycles in the whole
    /// graph.
    pub fn check(&self, scope: Option<&BTreeSet<String>>) -> Result<(), DepError> {
        if let Some(e) = self.missing(scope) {
            return Err(e);
        }
        match self.find_cycle() {
            Some(c) => Err(DepError::Cycle(c)),
            None => Ok(()),
        }
    }

    /// `roots` and everything they need, directly or not (missing names included).
    pub fn needs_closure(&self, roots: &[&str]) -> BTreeSet<String> {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<String> = roots.iter().map(|s| s.to_string()).collect();
        while let Some(n) = todo.pop() {
            if seen.insert(n.clone()) {
                todo.extend(self.direct_needs(&n).iter().filter(|x| !seen.contains(*x)).cloned());
            }
        }
        seen
    }

    /// `roots` and everything that needs them, directly or not.
    pub fn needed_by_closure(&self, roots: &[&str]) -> BTreeSet<String> {
        let rev = self.reverse();
        rev.needs_closure(roots)
    }

    /// The graph with every edge turned around (node: the nodes that need it).
    pub fn reverse(&self) -> Graph {
        let mut r: BTreeMap<String, BTreeSet<String>> =
            self.nodes.keys().map(|k| (k.clone(), BTreeSet::new())).collect();
        for (name, needs) in &self.nodes {
            for n in needs {
                r.entry(n.clone()).or_default().insert(name.clone());
            }
        }
        Graph { nodes: r.into_iter().map(|(k, v)| (k, v.into_iter().collect())).collect() }
    }

    /// The layers of the nodes in `set` (all nodes when None): layer 0 needs nothing in the
    /// set, layer k needs only services of earlier layers (and at least one of layer k-1).
    /// Each layer is sorted by name. The services of one layer can start together; stopping
    /// goes through the layers backwards. A cycle is an error.
    pub fn layers(&self, set: Option<&BTreeSet<String>>) -> Result<Vec<Vec<String>>, DepError> {
        let all: BTreeSet<String>;
        let set = match set {
            Some(s) => s,
            None => {
                all = self.nodes.keys().cloned().collect();
                &all
            }
        };
        let mut level: BTreeMap<&str, usize> = BTreeMap::new();
        let mut pending: BTreeSet<&str> = set.iter().map(|s| s.as_str()).collect();
        while !pending.is_empty() {
            let mut progressed = false;
            let ready: Vec<&str> = pending
                .iter()
                .copied()
                .filter(|n| self.direct_needs(n).iter().all(|d| !set.contains(d) || level.contains_key(d.as_str())))
                .collect();
            for n in ready {
                let l = self
                    .direct_needs(n)
                    .iter()
                    .filter(|d| set.contains(*d))
                    .map(|d| level[d.as_str()] + 1)
                    .max()
                    .unwrap_or(0);
                level.insert(n, l);
                pending.remove(n);
                progressed = true;
            }
            if !progressed {
                let mut sub = Graph::new();
                for n in &pending {
                    let needs: Vec<String> =
                        self.direct_needs(n).iter().filter(|d| pending.contains(d.as_str())).cloned().collect();
                    sub.add(n, &needs);
                }
                let c = sub.find_cycle().unwrap_or_else(|| pending.iter().map(|s| s.to_string()).collect());
                return Err(DepError::Cycle(c));
            }
        }
        let depth = level.values().max().map_or(0, |m| m + 1);
        let mut layers = vec![Vec::new(); depth];
        for (n, l) in level {
            layers[l].push(n.to_string());
        }
        Ok(layers)
    }

    /// The order in which to start `name` and everything it needs: each service after all it
    /// needs, `name` last, the others layer by layer, by name within a layer.
    pub fn start_order(&self, name: &str) -> Result<Vec<String>, DepError> {
        let set = self.needs_closure(&[name]);
        let mut order: Vec<String> = self.layers(Some(&set))?.into_iter().flatten().filter(|n| n != name).collect();
        order.push(name.to_string());
        Ok(order)
    }

    /// The order in which to stop everything that needs `name`, then `name`: each service
    /// before all it needs, `name` last.
    pub fn stop_order(&self, name: &str) -> Result<Vec<String>, DepError> {
        let set = self.needed_by_closure(&[name]);
        let mut order: Vec<String> =
            self.layers(Some(&set))?.into_iter().rev().flatten().filter(|n| n != name).collect();
        order.push(name.to_string());
        Ok(order)
    }

    /// Graphviz `dot`: an edge from each service to each service it needs; the services not
    /// in `enabled` (pulled in by one that is) are drawn dashed.
    pub fn to_dot(&self, enabled: &BTreeSet<String>) -> String {
        let q = |s: &str| json_string(s);
        let mut o = String::from("digraph services {\n");
        for (name, needs) in &self.nodes {
            if enabled.contains(name) {
                o += &format!("    {};\n", q(name));
            } else {
                o += &format!("    {} [style=dashed];\n", q(name));
            }
            for n in needs {
                o += &format!("    {} -> {};\n", q(name), q(n));
            }
        }
        o += "}\n";
        o
    }

    /// JSON: an array of `{"name":..,"enabled":..,"needs":[..]}`, by name.
    pub fn to_json(&self, enabled: &BTreeSet<String>) -> String {
        let items: Vec<String> = self
            .nodes
            .iter()
            .map(|(name, needs)| {
                format!(
                    "{{\"name\":{},\"enabled\":{},\"needs\":{}}}",
                    json_string(name),
                    enabled.contains(name),
                    json_array(needs)
                )
            })
            .collect();
        format!("[{}]", items.join(","))
    }
}

/// A JSON array of strings.
pub fn json_array(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| json_string(s)).collect();
    format!("[{}]", items.join(","))
}

/// A relation of one service (`service NAME needs` / `needed-by`): the direct ones, and all
/// of them in the order `service` acts on them (start order for needs, stop order for
/// needed-by).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relation {
    pub name: String,
    pub direct: Vec<String>,
    pub all: Vec<String>,
}

impl Relation {
    /// What `name` needs (the graph must be checked: no cycle).
    pub fn needs(g: &Graph, name: &str) -> Result<Relation, DepError> {
        let mut all = g.start_order(name)?;
        all.pop();
        Ok(Relation { name: name.to_string(), direct: g.direct_needs(name).to_vec(), all })
    }

    /// What needs `name`.
    pub fn needed_by(g: &Graph, name: &str) -> Result<Relation, DepError> {
        let mut all = g.stop_order(name)?;
        all.pop();
        Ok(Relation { name: name.to_string(), direct: g.direct_needed_by(name), all })
    }

    /// One line per service, in order; the indirect ones marked `(indirect)`.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        for n in &self.all {
            o += n;
            if !self.direct.contains(n) {
                o += " (indirect)";
            }
            o += "\n";
        }
        o
    }

    /// `{"name":..,"direct":[..],"all":[..]}`.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"name\":{},\"direct\":{},\"all\":{}}}",
            json_string(&self.name),
            json_array(&self.direct),
            json_array(&self.all)
        )
    }
}

// splitmix64 for the tests: the one generator of merit-core's tests/fuzz.rs and merit-programs'
// tests.
#[cfg(test)]
#[path = "../tests/support/shared.rs"]
mod shared;

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn graph(edges: &[(&str, &[&str])]) -> Graph {
        let mut g = Graph::new();
        for (n, needs) in edges {
            g.add(n, &s(needs));
        }
        g
    }

    use super::shared::Rng;

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            (self.next() % (n.max(1) as u64)) as usize
        }
    }

    #[test]
    fn file_format() {
        let t = "db\n  net\n\n# a comment\n\t#not a name either\nlog \n";
        assert_eq!(parse_file("web", t).unwrap(), s(&["db", "net", "log "]));
        assert_eq!(parse_file("web", "").unwrap(), Vec::<String>::new());
        assert_eq!(parse_file("web", "a\n\n\nb").unwrap(), s(&["a", "b"]));
        let e = parse_file("web", "db\n../x\n").unwrap_err();
        assert_eq!(
            e,
            DepError::BadName {
                service: "web".into(),
                entry: "../x".into(),
                source: FILE,
                reason: "a service name cannot contain /"
            }
        );
        assert_eq!(e.message(), "web: invalid service name \"../x\" in dependencies: a service name cannot contain /");
        assert!(matches!(parse_file("web", ".x\n"), Err(DepError::BadName { .. })));
        assert!(matches!(parse_file("web", "a\rb\n"), Err(DepError::BadName { .. })));
        assert!(matches!(parse_file("web", "..\n"), Err(DepError::BadName { .. })));
    }

    #[test]
    fn dir_format() {
        let r = EntryKind::Regular;
        let entries = vec![("net".to_string(), r), (".keep".to_string(), EntryKind::Directory), ("db".to_string(), r)];
        assert_eq!(parse_dir("web", &entries).unwrap(), s(&["net", "db"]));
        let e = parse_dir("web", &[("db".into(), EntryKind::Directory)]).unwrap_err();
        assert_eq!(e.message(), "web: dependencies.d/db is a directory, not a regular file");
        assert_eq!(e.services(), vec!["web"]);
        let e = DepError::NotRegular { service: "web".into(), entry: FILE.into(), kind: EntryKind::Fifo };
        assert_eq!(e.message(), "web: dependencies is a FIFO, not a regular file");
        let e = DepError::NotDirectory { service: "web".into(), kind: EntryKind::Regular };
        assert_eq!(e.message(), "web: dependencies.d is a regular file, not a directory");
        for k in [EntryKind::Symlink, EntryKind::Fifo, EntryKind::Socket, EntryKind::Device] {
            assert!(matches!(parse_dir("w", &[("x".into(), k)]), Err(DepError::NotRegular { .. })));
        }
        assert!(matches!(parse_dir("w", &[("a\nb".into(), r)]), Err(DepError::BadName { .. })));
        assert!(matches!(parse_dir("w", &[("a\u{fffd}".into(), r)]), Err(DepError::BadName { .. })));
        // both: the union, sorted
        let d = vec![("net".to_string(), r), ("db".to_string(), r)];
        assert_eq!(declared("web", Some(&d), Some("db\nlog\n")).unwrap(), s(&["db", "log", "net"]));
        assert_eq!(declared("web", None, None).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn orders() {
        let g = graph(&[("web", &["db", "net"]), ("db", &["net", "log"]), ("net", &[]), ("log", &[]), ("x", &[])]);
        assert_eq!(g.check(None), Ok(()));
        assert_eq!(g.start_order("web").unwrap(), s(&["log", "net", "db", "web"]));
        assert_eq!(g.start_order("x").unwrap(), s(&["x"]));
        assert_eq!(g.stop_order("net").unwrap(), s(&["web", "db", "net"]));
        assert_eq!(g.stop_order("web").unwrap(), s(&["web"]));
        assert_eq!(g.layers(None).unwrap(), vec![s(&["log", "net", "x"]), s(&["db"]), s(&["web"])]);
        let r = Relation::needs(&g, "web").unwrap();
        assert_eq!((r.direct.clone(), r.all.clone()), (s(&["db", "net"]), s(&["log", "net", "db"])));
        assert_eq!(r.to_text(), "log (indirect)\nnet\ndb\n");
        assert_eq!(r.to_json(), "{\"name\":\"web\",\"direct\":[\"db\",\"net\"],\"all\":[\"log\",\"net\",\"db\"]}");
        let r = Relation::needed_by(&g, "net").unwrap();
        assert_eq!((r.direct.clone(), r.all.clone()), (s(&["db", "web"]), s(&["web", "db"])));
        let r = Relation::needed_by(&g, "log").unwrap();
        assert_eq!(r.to_text(), "web (indirect)\ndb\n");
        assert_eq!(g.needs_closure(&["db"]), ["db", "log", "net"].iter().map(|x| x.to_string()).collect());
        assert_eq!(g.direct_needed_by("db"), s(&["web"]));
    }

    #[test]
    fn missing_and_cycles() {
        let g = graph(&[("web", &["db"]), ("db", &["ghost"]), ("z", &["nowhere"])]);
        assert_eq!(g.missing(None), Some(DepError::Missing { service: "db".into(), needed: "ghost".into() }));
        assert_eq!(
            DepError::Missing { service: "db".into(), needed: "ghost".into() }.message(),
            "db needs ghost, which is not an available service"
        );
        let scope: BTreeSet<String> = ["z".to_string()].into_iter().collect();
        assert_eq!(g.missing(Some(&scope)).unwrap().services(), vec!["z", "nowhere"]);
        // The order still works around a missing name (it is checked separately).
        assert_eq!(g.start_order("web").unwrap(), s(&["ghost", "db", "web"]));

        let g = graph(&[("c", &["a"]), ("a", &["b"]), ("b", &["c"]), ("d", &["a"])]);
        let c = g.find_cycle().unwrap();
        assert_eq!(c, s(&["a", "b", "c", "a"]));
        assert_eq!(DepError::Cycle(c).message(), "dependency cycle: a -> b -> c -> a");
        assert!(matches!(g.check(None), Err(DepError::Cycle(_))));
        assert!(matches!(g.start_order("d"), Err(DepError::Cycle(_))));
        assert!(matches!(g.stop_order("a"), Err(DepError::Cycle(_))));
        // A service that needs itself.
        let g = graph(&[("a", &["a"])]);
        assert_eq!(g.find_cycle().unwrap(), s(&["a", "a"]));
        assert_eq!(g.layers(None), Err(DepError::Cycle(s(&["a", "a"]))));
    }

    #[test]
    fn rendering() {
        let g = graph(&[("web", &["db"]), ("db", &[]), ("q\"x", &[])]);
        let en: BTreeSet<String> = ["web".to_string(), "q\"x".to_string()].into_iter().collect();
        assert_eq!(
            g.to_dot(&en),
            "digraph services {\n    \"db\" [style=dashed];\n    \"q\\\"x\";\n    \"web\";\n    \"web\" -> \"db\";\n}\n"
        );
        assert_eq!(
            g.to_json(&en),
            "[{\"name\":\"db\",\"enabled\":false,\"needs\":[]},{\"name\":\"q\\\"x\",\"enabled\":true,\"needs\":[]},{\"name\":\"web\",\"enabled\":true,\"needs\":[\"db\"]}]"
        );
    }

    /// A random DAG over `n` nodes: node i may need only nodes j < i (names shuffled, so that
    /// name order says nothing about the dependency order).
    fn random_dag(rng: &mut Rng, n: usize) -> Graph {
        let mut names: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
        for i in (1..n).rev() {
            let j = rng.below(i + 1);
            names.swap(i, j);
        }
        let mut g = Graph::new();
        for i in 0..n {
            let needs: Vec<String> = (0..i).filter(|_| rng.below(4) == 0).map(|j| names[j].clone()).collect();
            g.add(&names[i], &needs);
        }
        g
    }

    #[test]
    fn random_dags_respect_every_edge() {
        let mut rng = Rng(12);
        for round in 0..300 {
            let n = 1 + rng.below(25);
            let g = random_dag(&mut rng, n);
            assert_eq!(g.check(None), Ok(()), "round {round}");
            // Layers: every edge goes to an earlier layer, and every node is in one.
            let layers = g.layers(None).unwrap();
            let mut at = BTreeMap::new();
            for (i, l) in layers.iter().enumerate() {
                for x in l {
                    assert!(at.insert(x.clone(), i).is_none());
                }
            }
            assert_eq!(at.len(), n);
            for name in g.names() {
                for d in g.direct_needs(name) {
                    assert!(at[d] < at[name], "round {round}: {name} needs {d}");
                }
                // Start order: every need before its service; exactly the closure.
                let order = g.start_order(name).unwrap();
                let pos: BTreeMap<&str, usize> = order.iter().enumerate().map(|(i, x)| (x.as_str(), i)).collect();
                assert_eq!(pos.len(), order.len(), "no duplicates");
                assert_eq!(order.last().map(|x| x.as_str()), Some(name));
                assert_eq!(order.iter().cloned().collect::<BTreeSet<_>>(), g.needs_closure(&[name]));
                for x in &order {
                    for d in g.direct_needs(x) {
                        assert!(pos[d.as_str()] < pos[x.as_str()], "round {round}: {x} after {d}");
                    }
                }
                // Stop order: every service before what it needs; exactly the reverse closure.
                let order = g.stop_order(name).unwrap();
                let pos: BTreeMap<&str, usize> = order.iter().enumerate().map(|(i, x)| (x.as_str(), i)).collect();
                assert_eq!(order.last().map(|x| x.as_str()), Some(name));
                assert_eq!(order.iter().cloned().collect::<BTreeSet<_>>(), g.needed_by_closure(&[name]));
                for x in &order {
                    for d in g.direct_needs(x) {
                        if let Some(&pd) = pos.get(d.as_str()) {
                            assert!(pos[x.as_str()] < pd, "round {round}: {x} stopped after {d}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn random_cycles_are_real_cycles() {
        let mut rng = Rng(7);
        for round in 0..300 {
            let n = 1 + rng.below(20);
            let mut g = random_dag(&mut rng, n);
            // One back edge (or a self-edge) makes at least one cycle.
            let names: Vec<String> = g.names().map(|x| x.to_string()).collect();
            let a = names[rng.below(n)].clone();
            let closure: Vec<String> = g.needs_closure(&[&a]).into_iter().collect();
            let b = closure[rng.below(closure.len())].clone();
            let mut needs = g.direct_needs(&b).to_vec();
            needs.push(a.clone());
            g.add(&b, &needs);
            let c = g.find_cycle().unwrap_or_else(|| panic!("round {round}: no cycle found"));
            assert!(c.len() >= 2 && c.first() == c.last(), "{c:?}");
            for w in c.windows(2) {
                assert!(g.direct_needs(&w[0]).contains(&w[1]), "round {round}: {} does not need {}", w[0], w[1]);
            }
            let inner: BTreeSet<&String> = c[..c.len() - 1].iter().collect();
            assert_eq!(inner.len(), c.len() - 1, "a simple cycle: {c:?}");
            assert_eq!(&c[0], c[..c.len() - 1].iter().min().unwrap(), "starts at its smallest name");
            assert!(matches!(g.check(None), Err(DepError::Cycle(_))));
            match g.layers(None) {
                Err(DepError::Cycle(c2)) => {
                    for w in c2.windows(2) {
                        assert!(g.direct_needs(&w[0]).contains(&w[1]));
                    }
                }
                other => panic!("round {round}: {other:?}"),
            }
        }
    }
}
