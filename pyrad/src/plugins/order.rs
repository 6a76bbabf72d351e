//! The order plugins start and run their hooks in: dependencies first, then
//! priority (lower first), then name. Cycles and missing dependencies are found
//! and reported per plugin; the rest still load.

use std::collections::{BTreeMap, BTreeSet};

/// Why a plugin cannot be placed in the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unplaced {
    /// It depends on a plugin that is not installed, or not loadable.
    Missing(String),
    /// It is part of a dependency cycle (the names in it, in order).
    Cycle(Vec<String>),
    /// A plugin it depends on could not be placed.
    Skipped(String),
}

/// Orders `plugins` (name → (priority, depends)). Returns the order and, for
/// every plugin left out, why.
pub fn order(plugins: &BTreeMap<String, (i32, Vec<String>)>) -> (Vec<String>, BTreeMap<String, Unplaced>) {
    let mut out = Vec::new();
    let mut left: BTreeMap<String, Unplaced> = BTreeMap::new();

    // Cycles first: every plugin on one is left out, and so is whatever needs it.
    for name in plugins.keys() {
        if left.contains_key(name) {
            continue;
        }
        if let Some(cycle) = find_cycle(name, plugins) {
            for member in &cycle {
                left.insert(member.clone(), Unplaced::Cycle(cycle.clone()));
            }
        }
    }
    for (name, (_, deps)) in plugins {
        if let Some(dep) = deps.iter().find(|d| !plugins.contains_key(*d)) {
            left.entry(name.clone()).or_insert_with(|| Unplaced::Missing(dep.clone()));
        }
    }
    // Whatever depends on a left-out plugin is skipped, transitively.
    loop {
        let mut changed = false;
        for (name, (_, deps)) in plugins {
            if left.contains_key(name) {
                continue;
            }
            if let Some(dep) = deps.iter().find(|d| left.contains_key(*d)) {
                left.insert(name.clone(), Unplaced::Skipped(dep.clone()));
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Kahn's algorithm; among the ready ones, lowest (priority, name) first.
    let mut placed: BTreeSet<String> = BTreeSet::new();
    loop {
        let ready = plugins
            .iter()
            .filter(|(name, (_, deps))| {
                !left.contains_key(*name) && !placed.contains(*name) && deps.iter().all(|d| placed.contains(d))
            })
            .min_by(|a, b| (a.1.0, a.0).cmp(&(b.1.0, b.0)));
        match ready {
            Some((name, _)) => {
                placed.insert(name.clone());
                out.push(name.clone());
            }
            None => break,
        }
    }
    (out, left)
}

/// A cycle through `start`, if there is one.
fn find_cycle(start: &str, plugins: &BTreeMap<String, (i32, Vec<String>)>) -> Option<Vec<String>> {
    fn walk(
        node: &str,
        start: &str,
        plugins: &BTreeMap<String, (i32, Vec<String>)>,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        let Some((_, deps)) = plugins.get(node) else { return false };
        for dep in deps {
            if dep == start {
                return true;
            }
            if seen.insert(dep.clone()) {
                path.push(dep.clone());
                if walk(dep, start, plugins, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_owned()];
    let mut seen = BTreeSet::new();
    walk(start, start, plugins, &mut path, &mut seen).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[(&str, i32, &[&str])]) -> BTreeMap<String, (i32, Vec<String>)> {
        items.iter().map(|(n, p, d)| (n.to_string(), (*p, d.iter().map(|s| s.to_string()).collect()))).collect()
    }

    #[test]
    fn dependencies_then_priority_then_name() {
        let (order, left) = order(&set(&[("b", 10, &[]), ("a", 10, &[]), ("z", 1, &[]), ("needs_a", 0, &["a"])]));
        assert_eq!(order, vec!["z", "a", "needs_a", "b"]);
        assert!(left.is_empty());
    }

    #[test]
    fn cycles_and_missing_dependencies_leave_only_their_plugins_out() {
        let plugins = set(&[
            ("x", 100, &["y"]),
            ("y", 100, &["x"]),
            ("uses_x", 100, &["x"]),
            ("lonely", 100, &["ghost"]),
            ("fine", 100, &[]),
        ]);
        let (order, left) = order(&plugins);
        assert_eq!(order, vec!["fine"]);
        assert_eq!(left["x"], Unplaced::Cycle(vec!["x".into(), "y".into()]));
        assert!(matches!(left["y"], Unplaced::Cycle(_)));
        assert_eq!(left["uses_x"], Unplaced::Skipped("x".into()));
        assert_eq!(left["lonely"], Unplaced::Missing("ghost".into()));
    }

    #[test]
    fn a_self_dependency_is_a_cycle() {
        let (order, left) = order(&set(&[("me", 1, &["me"])]));
        assert!(order.is_empty());
        assert_eq!(left["me"], Unplaced::Cycle(vec!["me".into()]));
    }
}
