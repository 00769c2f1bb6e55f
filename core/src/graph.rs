//! Reference graphs (segments using segments, flags requiring flags): cycles and depth,
//! computed iteratively so that hostile snapshots cannot overflow the stack.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec;
use alloc::vec::Vec;

/// The deepest prerequisite chain or segment nesting a snapshot may use.
pub(crate) const MAX_DEPTH: u32 = 32;

/// What [`analyze`] learns about each node.
pub(crate) struct Analysis {
    /// The node lies on a cycle (including a self-reference).
    pub(crate) on_cycle: Vec<bool>,
    /// The longest chain of edges from the node (0 without edges); nodes that reach a
    /// cycle count the cycle as one step.
    pub(crate) depth: Vec<u32>,
    /// The strongly connected component of each node, numbered in the order found.
    pub(crate) component: Vec<u32>,
}

/// Tarjan's strongly connected components, iteratively. Components come out in reverse
/// topological order, so depths can be computed as they appear.
pub(crate) fn analyze(edges: &[Vec<u32>]) -> Analysis {
    let count = edges.len();
    let mut index: Vec<Option<u32>> = vec![None; count];
    let mut low = vec![0u32; count];
    let mut on_stack = vec![false; count];
    let mut stack: Vec<usize> = Vec::new();
    let mut on_cycle = vec![false; count];
    let mut depth = vec![0u32; count];
    let mut component_of = vec![0u32; count];
    let mut components = 0u32;
    let mut next_index = 0u32;
    let successors = |node: usize| edges.get(node).map_or(&[][..], Vec::as_slice);

    for root in 0..count {
        if index.get(root).copied().flatten().is_some() {
            continue;
        }
        let mut calls: Vec<(usize, usize)> = vec![(root, 0)];
        visit(root, &mut index, &mut low, &mut on_stack, &mut stack, &mut next_index);
        while let Some(&mut (node, ref mut child)) = calls.last_mut() {
            if let Some(&next) = successors(node).get(*child) {
                *child += 1;
                let next = next as usize;
                match index.get(next).copied().flatten() {
                    None if next < count => {
                        visit(next, &mut index, &mut low, &mut on_stack, &mut stack, &mut next_index);
                        calls.push((next, 0));
                    }
                    Some(next_index) if on_stack.get(next).copied().unwrap_or(false) => {
                        set_min(&mut low, node, next_index);
                    }
                    _ => {}
                }
                continue;
            }
            calls.pop();
            let node_low = low.get(node).copied().unwrap_or(0);
            if let Some(&(parent, _)) = calls.last() {
                set_min(&mut low, parent, node_low);
            }
            if Some(node_low) != index.get(node).copied().flatten() {
                continue;
            }
            // `node` roots a component: pop it.
            let mut component = Vec::new();
            while let Some(member) = stack.pop() {
                if let Some(flag) = on_stack.get_mut(member) {
                    *flag = false;
                }
                component.push(member);
                if member == node {
                    break;
                }
            }
            let cyclic = component.len() > 1 || successors(node).contains(&(node as u32));
            for &member in &component {
                let member_depth = if cyclic {
                    1
                } else {
                    successors(member)
                        .iter()
                        .map(|&s| depth.get(s as usize).copied().unwrap_or(0).saturating_add(1))
                        .max()
                        .unwrap_or(0)
                };
                if let Some(slot) = on_cycle.get_mut(member) {
                    *slot = cyclic;
                }
                if let Some(slot) = depth.get_mut(member) {
                    *slot = member_depth;
                }
                if let Some(slot) = component_of.get_mut(member) {
                    *slot = components;
                }
            }
            components += 1;
        }
    }
    Analysis { on_cycle, depth, component: component_of }
}

/// One cycle per cyclic component, named once: its lowest-numbered node is the
/// component's representative and gets a shortest cycle through it.
pub(crate) struct Cycles {
    /// For each node on a cycle, the representative of its component.
    pub(crate) representative: Vec<Option<u32>>,
    /// For each representative, a shortest cycle through it: `[r, …, r]`.
    pub(crate) paths: BTreeMap<u32, Vec<u32>>,
}

/// Finds [`Cycles`] with one breadth-first search per cyclic component, each confined to
/// its component: linear in the size of the graph.
pub(crate) fn cycles(edges: &[Vec<u32>], analysis: &Analysis) -> Cycles {
    let count = edges.len();
    let successors = |node: usize| edges.get(node).map_or(&[][..], Vec::as_slice);
    let component = |node: usize| analysis.component.get(node).copied();
    let mut representative_of_component: BTreeMap<u32, u32> = BTreeMap::new();
    let mut representative = vec![None; count];
    // Components are disjoint and each is searched once, so one parent table serves all.
    let mut parent: Vec<Option<u32>> = vec![None; count];
    let mut paths = BTreeMap::new();
    for node in 0..count {
        if !analysis.on_cycle.get(node).copied().unwrap_or(false) {
            continue;
        }
        let Some(own) = component(node) else { continue };
        let first = *representative_of_component.entry(own).or_insert(node as u32);
        if let Some(slot) = representative.get_mut(node) {
            *slot = Some(first);
        }
        if first != node as u32 {
            continue;
        }
        // Breadth-first from `node` until an edge leads back to it.
        let mut queue = VecDeque::from([node]);
        let mut closing = None;
        'search: while let Some(at) = queue.pop_front() {
            for &next in successors(at) {
                let next = next as usize;
                if next == node {
                    closing = Some(at);
                    break 'search;
                }
                if component(next) == Some(own) && parent.get(next).copied().flatten().is_none() {
                    if let Some(slot) = parent.get_mut(next) {
                        *slot = Some(at as u32);
                    }
                    queue.push_back(next);
                }
            }
        }
        let mut path = vec![node as u32];
        let mut at = closing;
        while let Some(step) = at.filter(|&s| s != node) {
            path.push(step as u32);
            at = parent.get(step).copied().flatten().map(|p| p as usize);
        }
        path.push(node as u32);
        path.reverse();
        paths.insert(node as u32, path);
    }
    Cycles { representative, paths }
}

fn visit(
    node: usize,
    index: &mut [Option<u32>],
    low: &mut [u32],
    on_stack: &mut [bool],
    stack: &mut Vec<usize>,
    next_index: &mut u32,
) {
    if let (Some(i), Some(l), Some(s)) = (index.get_mut(node), low.get_mut(node), on_stack.get_mut(node)) {
        *i = Some(*next_index);
        *l = *next_index;
        *s = true;
    }
    *next_index += 1;
    stack.push(node);
}

fn set_min(low: &mut [u32], node: usize, value: u32) {
    if let Some(slot) = low.get_mut(node) {
        *slot = (*slot).min(value);
    }
}

/// Nodes that are invalid themselves or reach an invalid node.
pub(crate) fn propagate_invalid(edges: &[Vec<u32>], invalid_itself: impl Fn(usize) -> bool) -> Vec<bool> {
    let count = edges.len();
    let mut invalid: Vec<bool> = (0..count).map(&invalid_itself).collect();
    // Reverse edges, then spread invalidity from each invalid node to its users.
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (node, targets) in edges.iter().enumerate() {
        for &target in targets {
            if let Some(list) = users.get_mut(target as usize) {
                list.push(node);
            }
        }
    }
    let mut work: Vec<usize> = (0..count).filter(|&n| invalid.get(n).copied().unwrap_or(false)).collect();
    while let Some(node) = work.pop() {
        for &user in users.get(node).map_or(&[][..], Vec::as_slice) {
            if let Some(flag) = invalid.get_mut(user)
                && !*flag
            {
                *flag = true;
                work.push(user);
            }
        }
    }
    invalid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cycles_and_depths() {
        // 0 → 1 → 2 → 1 (cycle 1,2), 3 → 0, 4 → 4 (self loop), 5 alone
        let edges = vec![vec![1], vec![2], vec![1], vec![0], vec![4], vec![]];
        let analysis = analyze(&edges);
        assert_eq!(analysis.on_cycle, [false, true, true, false, true, false]);
        assert_eq!(analysis.depth, [2, 1, 1, 3, 1, 0]);
        let invalid = propagate_invalid(&edges, |n| analysis.on_cycle[n]);
        assert_eq!(invalid, [true, true, true, true, true, false]);
    }

    #[test]
    fn one_shortest_cycle_per_component() {
        // {1, 2, 3}: 1 → 2 → 3 → 1 and the shortcut 1 → 3; 4 → 4; 0 and 5 reach cycles.
        let edges = vec![vec![1], vec![2, 3], vec![3], vec![1], vec![4], vec![4]];
        let analysis = analyze(&edges);
        let cycles = cycles(&edges, &analysis);
        assert_eq!(cycles.representative, [None, Some(1), Some(1), Some(1), Some(4), None]);
        assert_eq!(cycles.paths.get(&1), Some(&vec![1, 3, 1]));
        assert_eq!(cycles.paths.get(&4), Some(&vec![4, 4]));
        assert_eq!(cycles.paths.len(), 2);
    }

    #[test]
    fn long_chains_do_not_recurse() {
        let edges: Vec<Vec<u32>> =
            (0..100_000u32).map(|i| if i + 1 < 100_000 { vec![i + 1] } else { vec![] }).collect();
        let analysis = analyze(&edges);
        assert_eq!(analysis.depth[0], 99_999);
        assert!(analysis.on_cycle.iter().all(|c| !c));
    }
}
