//! Templates of one length and first token, indexed for matching.
//!
//! A template matches a message when all its constant positions equal the
//! message's tokens. Templates are grouped by the set of their variable
//! positions; within a group, a template is found by the hash of the message
//! with exactly those positions wildcarded. Matching therefore costs one
//! hash lookup per group (groups are few: a bucket's templates mostly share
//! where their variables are), not one comparison per template.

use super::hashing::{self, HashMap64};

/// The templates of one bucket.
#[derive(Debug, Default, Clone)]
pub(crate) struct Bucket {
    groups: Vec<Group>,
    live: usize,
}

/// Templates with the same variable positions.
#[derive(Debug, Default, Clone)]
struct Group {
    variables: Vec<usize>,
    /// Hash with the variable positions wildcarded → templates (more than
    /// one only on a hash collision or when templates differ only in how
    /// their variables are written, e.g. `[<*>]` and `<*>`).
    templates: HashMap64<Vec<u32>>,
}

/// Hash of a sequence with the given positions wildcarded.
fn wildcarded(sequence: u64, variables: &[usize], key_at: impl Fn(usize) -> u64) -> u64 {
    variables
        .iter()
        .fold(sequence, |h, &p| hashing::context(h, p, key_at(p)))
}

impl Bucket {
    /// Number of templates.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Add template `index` whose variable positions are `variables` and
    /// whose wildcarded hash is computed from `sequence` and `key_at`.
    pub fn insert(
        &mut self,
        index: u32,
        variables: Vec<usize>,
        sequence: u64,
        key_at: impl Fn(usize) -> u64,
    ) {
        let hash = wildcarded(sequence, &variables, key_at);
        let group = match self.groups.iter().position(|g| g.variables == variables) {
            Some(g) => &mut self.groups[g],
            None => {
                self.groups.push(Group {
                    variables,
                    templates: HashMap64::default(),
                });
                let last = self.groups.len() - 1;
                &mut self.groups[last]
            }
        };
        group.templates.entry(hash).or_default().push(index);
        self.live += 1;
    }

    /// Remove template `index`, inserted with the same arguments.
    pub fn remove(
        &mut self,
        index: u32,
        variables: &[usize],
        sequence: u64,
        key_at: impl Fn(usize) -> u64,
    ) {
        let hash = wildcarded(sequence, variables, key_at);
        let Some(g) = self.groups.iter().position(|g| g.variables == variables) else {
            return;
        };
        let group = &mut self.groups[g];
        if let Some(list) = group.templates.get_mut(&hash) {
            let before = list.len();
            list.retain(|&i| i != index);
            self.live -= before - list.len();
            if list.is_empty() {
                group.templates.remove(&hash);
            }
        }
        if group.templates.is_empty() {
            self.groups.swap_remove(g);
        }
    }

    /// Templates that may match a message with this sequence hash and
    /// token keys (hash candidates; the caller checks them).
    pub fn candidates<'a>(
        &'a self,
        sequence: u64,
        key_at: impl Fn(usize) -> u64 + 'a,
    ) -> impl Iterator<Item = u32> + 'a {
        self.groups.iter().flat_map(move |g| {
            let hash = wildcarded(sequence, &g.variables, &key_at);
            g.templates.get(&hash).into_iter().flatten().copied()
        })
    }

    /// All templates, in no particular order.
    pub fn all(&self) -> impl Iterator<Item = u32> + '_ {
        self.groups
            .iter()
            .flat_map(|g| g.templates.values().flatten().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(keys: &[u64]) -> u64 {
        hashing::sequence(keys.iter().copied())
    }

    #[test]
    fn finds_templates_by_their_constant_positions() {
        let template = [1, 2, 99, 4];
        let mut bucket = Bucket::default();
        bucket.insert(7, vec![2], seq(&template), |p| template[p]);
        let message = [1, 2, 3, 4];
        let found: Vec<_> = bucket.candidates(seq(&message), |p| message[p]).collect();
        assert_eq!(found, vec![7]);
        let other = [1, 5, 3, 4];
        assert_eq!(bucket.candidates(seq(&other), |p| other[p]).count(), 0);
        assert_eq!(bucket.len(), 1);
        bucket.remove(7, &[2], seq(&template), |p| template[p]);
        assert_eq!(bucket.len(), 0);
        assert_eq!(bucket.candidates(seq(&message), |p| message[p]).count(), 0);
    }
}
