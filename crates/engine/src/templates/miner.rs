//! The online template miner.
//!
//! # Algorithm
//!
//! Every message is tokenized and masked ([`super::tokenizer`]). The masked
//! token sequence is then matched against the templates that have the same
//! length and the same first token (as in Drain, the first token is taken to
//! name the event and is never generalized). A template matches when every
//! constant position equals the message token; variable positions accept
//! anything. The most specific match (most constants, then oldest) wins. A
//! message that matches nothing starts a new template equal to its masked
//! form.
//!
//! Word-valued variables (user names, domain names) are learnt from
//! *evidence*: templates that are identical except at one position `p` are
//! siblings, and they are merged into one template with `<*>` at `p` when
//!
//! * one of them already has a variable at `p` (a masked value appeared
//!   there, so the position holds values), or
//! * they show at least [`WORD_VARIABLE_EVIDENCE`] distinct values at `p`.
//!
//! A handful of alternatives at one position (`HTTPS`/`SOCKS5`,
//! `LOOKING`/`LEADING`/`FOLLOWING`, `x+`/`y+`/`z+`) usually name different
//! events, while free-form values quickly show many. A merged template gets
//! the id of its new text; the ids of the merged templates become aliases of
//! it ([`TemplateMiner::resolve`]).
//!
//! Finally a template absorbs the templates it covers (an instance of
//! `a <*> <*>` such as `a b c` learnt earlier), so that no live template is
//! more specific than another.
//!
//! A masked message that has been seen before goes straight to its template
//! through a memo keyed by the hash of the masked sequence, which makes the
//! steady state one tokenization and one hash lookup per message.

use super::VARIABLE;
use super::bucket::Bucket;
use super::hashing::{self, HashMap64};
use super::id::TemplateId;
use super::state::{ClusterState, MinerState, STATE_VERSION};
use super::tokenizer::{Token, Tokenizer};
use std::collections::HashMap;

/// Distinct word values seen at one position of otherwise identical
/// templates before that position is taken to be a variable.
pub const WORD_VARIABLE_EVIDENCE: usize = 5;

/// Templates absorbing the templates they cover is a scan of the bucket;
/// above this many templates in a bucket it is skipped to bound the cost.
const MAX_INSTANCE_SCAN: usize = 1024;

/// Memo entries kept before the memo is cleared (it refills from the
/// templates, so clearing only costs time).
const MEMO_CAPACITY: usize = 1 << 17;

/// One position of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    /// Hash of the token text at this position.
    pub key: u64,
    /// Accepts any token.
    pub variable: bool,
}

impl Slot {
    #[inline]
    fn accepts(&self, token: &Token) -> bool {
        self.variable || self.key == token.key
    }
}

/// A template and its bookkeeping.
#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    pub slots: Vec<Slot>,
    /// Template text of each position.
    pub texts: Vec<String>,
    pub size: u64,
    /// Set when this cluster was merged into another one.
    pub merged_into: Option<u32>,
    // Derived from `slots` and `texts`:
    template: String,
    id: TemplateId,
    sequence: u64,
    constants: usize,
}

impl Cluster {
    pub(crate) fn new(
        slots: Vec<Slot>,
        texts: Vec<String>,
        size: u64,
        merged_into: Option<u32>,
    ) -> Self {
        let mut cluster = Cluster {
            slots,
            texts,
            size,
            merged_into,
            template: String::new(),
            id: TemplateId(0),
            sequence: 0,
            constants: 0,
        };
        cluster.derive();
        cluster
    }

    /// Recompute the fields derived from the slots.
    fn derive(&mut self) {
        self.template = self.texts.join(" ");
        self.id = TemplateId::of(&self.template);
        self.sequence = hashing::sequence(self.slots.iter().map(|s| s.key));
        self.constants = self.slots.iter().filter(|s| !s.variable).count();
    }

    fn alive(&self) -> bool {
        self.merged_into.is_none()
    }

    fn matches(&self, tokens: &[Token]) -> bool {
        self.slots
            .iter()
            .zip(tokens)
            .all(|(slot, token)| slot.accepts(token))
    }

    /// Whether every message `other` accepts is accepted by `self`.
    fn covers(&self, other: &Cluster) -> bool {
        self.slots.len() == other.slots.len()
            && self
                .slots
                .iter()
                .zip(&other.slots)
                .all(|(a, b)| a.variable || (!b.variable && a.key == b.key))
    }

    /// Hash shared by all clusters that equal this one except at `pos`.
    fn context(&self, pos: usize) -> u64 {
        hashing::context(self.sequence, pos, self.slots[pos].key)
    }

    fn variables(&self) -> Vec<usize> {
        (0..self.slots.len())
            .filter(|&p| self.slots[p].variable)
            .collect()
    }

    fn bucket(&self) -> u64 {
        hashing::bucket(self.slots.len(), self.slots.first().map(|s| s.key))
    }

    pub(crate) fn template(&self) -> &str {
        &self.template
    }

    pub(crate) fn id(&self) -> TemplateId {
        self.id
    }
}

/// Online, incremental log-template miner. See the [module docs](self).
#[derive(Debug)]
pub struct TemplateMiner {
    tokenizer: Tokenizer,
    /// All clusters ever made; merged ones stay as forwarding entries.
    clusters: Vec<Cluster>,
    /// Live clusters by length and first token.
    buckets: HashMap64<Bucket>,
    /// Clusters by [`Cluster::context`]; entries may be stale (merged
    /// clusters, old contexts) and are checked on use.
    siblings: HashMap64<Vec<u32>>,
    /// Masked-sequence hash → cluster that took it.
    memo: HashMap64<u32>,
    /// Old template id → the id it became.
    aliases: HashMap<TemplateId, TemplateId>,
    /// Current id → live cluster.
    by_id: HashMap<TemplateId, u32>,
    var_key: u64,
}

impl Default for TemplateMiner {
    fn default() -> Self {
        Self::new()
    }
}

impl TemplateMiner {
    /// An empty miner.
    #[must_use]
    pub fn new() -> Self {
        TemplateMiner {
            tokenizer: Tokenizer::new(),
            clusters: Vec::new(),
            buckets: HashMap64::default(),
            siblings: HashMap64::default(),
            memo: HashMap64::default(),
            aliases: HashMap::new(),
            by_id: HashMap::new(),
            var_key: hashing::var_key(),
        }
    }

    /// Learn from one message and return the id of its template (as of
    /// now: later merges may turn it into an alias, see [`Self::resolve`]).
    pub fn add(&mut self, message: &str) -> TemplateId {
        let tokens = self.tokenizer.tokenize(message);
        let sequence = hashing::sequence(tokens.iter().map(|t| t.key));
        let found = match self.memo.get(&sequence) {
            Some(&index) => index,
            None => {
                let tokens = tokens.to_vec();
                let index = match self.best_match(&tokens, sequence) {
                    Some(index) => index,
                    None => self.create(message, &tokens),
                };
                self.remember(sequence, index);
                index
            }
        };
        let live = self.live(found);
        let cluster = &mut self.clusters[live as usize];
        cluster.size += 1;
        cluster.id
    }

    /// The current template text of `id` (after following aliases), with
    /// variables written as `<*>`.
    #[must_use]
    pub fn template(&self, id: TemplateId) -> Option<&str> {
        let index = *self.by_id.get(&self.resolve(id))?;
        Some(self.clusters[index as usize].template())
    }

    /// The current id of the template that `id` named: `id` itself if it is
    /// current, else the id its template was generalized or merged into.
    #[must_use]
    pub fn resolve(&self, id: TemplateId) -> TemplateId {
        let mut current = id;
        // Alias chains are acyclic; the bound only guards corrupt state.
        for _ in 0..=self.aliases.len() {
            if self.by_id.contains_key(&current) {
                return current;
            }
            match self.aliases.get(&current) {
                Some(&next) => current = next,
                None => return current,
            }
        }
        current
    }

    /// Number of current templates.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True before the first message.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
    }

    /// Current templates: id, text and number of messages, oldest first.
    pub fn templates(&self) -> impl Iterator<Item = (TemplateId, &str, u64)> + '_ {
        self.clusters
            .iter()
            .filter(|c| c.alive())
            .map(|c| (c.id(), c.template(), c.size))
    }

    /// A serializable snapshot; [`Self::from_state`] continues exactly where
    /// this miner stands.
    #[must_use]
    pub fn state(&self) -> MinerState {
        let clusters = self
            .clusters
            .iter()
            .map(ClusterState::from_cluster)
            .collect();
        let mut aliases: Vec<_> = self.aliases.iter().map(|(&a, &b)| (a, b)).collect();
        aliases.sort_unstable();
        let mut memo: Vec<_> = self.memo.iter().map(|(&k, &v)| (k, v)).collect();
        memo.sort_unstable();
        MinerState {
            version: STATE_VERSION,
            clusters,
            aliases,
            memo,
        }
    }

    /// Rebuild a miner from a snapshot. Entries that point outside the
    /// snapshot (a corrupt or hand-edited state) are dropped.
    #[must_use]
    pub fn from_state(state: MinerState) -> Self {
        let mut miner = TemplateMiner::new();
        let count = state.clusters.len();
        miner.clusters = state
            .clusters
            .into_iter()
            .map(ClusterState::into_cluster)
            .collect();
        for cluster in &mut miner.clusters {
            if cluster.merged_into.is_some_and(|to| to as usize >= count) {
                cluster.merged_into = None;
            }
        }
        miner.aliases = state.aliases.into_iter().collect();
        miner.memo = state
            .memo
            .into_iter()
            .filter(|&(_, index)| (index as usize) < count)
            .collect();
        for index in 0..count as u32 {
            if miner.clusters[index as usize].alive() {
                miner.index_cluster(index);
            }
        }
        miner
    }

    /// Follow merges from `index` to the live cluster.
    fn live(&self, mut index: u32) -> u32 {
        // Merges form a forest, so this ends; the bound guards corrupt state.
        for _ in 0..self.clusters.len() {
            match self.clusters[index as usize].merged_into {
                Some(next) => index = next,
                None => break,
            }
        }
        index
    }

    fn remember(&mut self, sequence: u64, index: u32) {
        if self.memo.len() >= MEMO_CAPACITY {
            self.memo.clear();
        }
        self.memo.insert(sequence, index);
    }

    /// The most specific live template matching `tokens` (whose sequence
    /// hash is `sequence`).
    fn best_match(&self, tokens: &[Token], sequence: u64) -> Option<u32> {
        let bucket = self.buckets.get(&hashing::bucket(
            tokens.len(),
            tokens.first().map(|t| t.key),
        ))?;
        let mut best: Option<(usize, u32)> = None;
        for index in bucket.candidates(sequence, |p| tokens[p].key) {
            let cluster = &self.clusters[index as usize];
            if !cluster.matches(tokens) {
                continue;
            }
            let better = match best {
                None => true,
                Some((constants, old)) => {
                    cluster.constants > constants || (cluster.constants == constants && index < old)
                }
            };
            if better {
                best = Some((cluster.constants, index));
            }
        }
        best.map(|(_, index)| index)
    }

    /// Start a template from a message, then merge it with siblings where
    /// the evidence rule says so. Returns the new cluster's index (which may
    /// already forward to a merged one).
    fn create(&mut self, message: &str, tokens: &[Token]) -> u32 {
        let slots = tokens
            .iter()
            .map(|t| Slot {
                key: t.key,
                variable: t.variable,
            })
            .collect();
        let texts = tokens
            .iter()
            .map(|t| {
                let mut text = String::new();
                t.render(message, &mut text);
                text
            })
            .collect();
        let index = self.clusters.len() as u32;
        self.clusters.push(Cluster::new(slots, texts, 0, None));
        self.index_cluster(index);
        self.merge_siblings_of(index);
        index
    }

    /// Register a live cluster in its bucket and sibling lists.
    fn index_cluster(&mut self, index: u32) {
        let cluster = &self.clusters[index as usize];
        self.by_id.insert(cluster.id(), index);
        self.aliases.remove(&cluster.id());
        let bucket = self.buckets.entry(cluster.bucket()).or_default();
        bucket.insert(index, cluster.variables(), cluster.sequence, |p| {
            cluster.slots[p].key
        });
        for pos in 1..cluster.slots.len() {
            self.siblings
                .entry(cluster.context(pos))
                .or_default()
                .push(index);
        }
    }

    /// Apply the merge rules around `index`, repeating for templates that
    /// a merge generalizes.
    fn merge_siblings_of(&mut self, index: u32) {
        let mut pending = vec![index];
        while let Some(index) = pending.pop() {
            self.absorb_instances(index);
            let len = self.clusters[index as usize].slots.len();
            for pos in 1..len {
                if !self.clusters[index as usize].alive() {
                    break;
                }
                if let Some(survivor) = self.try_merge(index, pos) {
                    pending.push(survivor);
                    break;
                }
            }
        }
    }

    /// Merge into `index` the live templates of its bucket that it covers
    /// (that have a constant wherever it has one, and the same constant).
    /// Keeps templates from hiding more general ones: no live template is
    /// an instance of another.
    fn absorb_instances(&mut self, index: u32) {
        let cluster = &self.clusters[index as usize];
        let Some(bucket) = self.buckets.get(&cluster.bucket()) else {
            return;
        };
        if bucket.len() > MAX_INSTANCE_SCAN {
            return;
        }
        let mut instances: Vec<u32> = bucket
            .all()
            .filter(|&other| other != index && cluster.covers(&self.clusters[other as usize]))
            .collect();
        instances.sort_unstable();
        for other in instances {
            self.absorb(index, other);
        }
    }

    /// Merge the siblings of `index` at `pos` if the evidence rule holds.
    /// Returns the surviving cluster.
    fn try_merge(&mut self, index: u32, pos: usize) -> Option<u32> {
        let members = self.live_siblings(index, pos);
        let clusters = &self.clusters;
        let with_variable = members
            .iter()
            .copied()
            .find(|&m| clusters[m as usize].slots[pos].variable);
        let enough = members.len() >= WORD_VARIABLE_EVIDENCE;
        if members.len() < 2 || (with_variable.is_none() && !enough) {
            return None;
        }
        // `members` is sorted, so the first one is the oldest.
        let survivor = with_variable.unwrap_or(members[0]);
        if with_variable.is_none() {
            self.generalize(survivor, pos);
        }
        for &member in members.iter().filter(|&&m| m != survivor) {
            self.absorb(survivor, member);
        }
        Some(survivor)
    }

    /// Live clusters that equal `index` except at `pos`, sorted, including
    /// `index`. Drops stale entries from the sibling list on the way.
    fn live_siblings(&mut self, index: u32, pos: usize) -> Vec<u32> {
        let context = self.clusters[index as usize].context(pos);
        let clusters = &self.clusters;
        let Some(list) = self.siblings.get_mut(&context) else {
            return Vec::new();
        };
        list.retain(|&m| {
            let c = &clusters[m as usize];
            c.alive() && c.slots.len() > pos && c.context(pos) == context
        });
        list.sort_unstable();
        list.dedup();
        list.clone()
    }

    /// Turn position `pos` of a live cluster into a variable.
    fn generalize(&mut self, index: u32, pos: usize) {
        self.unbucket(index);
        let cluster = &mut self.clusters[index as usize];
        let old_id = cluster.id();
        cluster.slots[pos] = Slot {
            key: self.var_key,
            variable: true,
        };
        cluster.texts[pos] = VARIABLE.to_owned();
        cluster.derive();
        let new_id = cluster.id();
        self.by_id.remove(&old_id);
        self.aliases.insert(old_id, new_id);
        // The bucket is unchanged (pos > 0 and same length); re-register
        // the new contexts and the new id.
        self.by_id.insert(new_id, index);
        self.aliases.remove(&new_id);
        let cluster = &self.clusters[index as usize];
        let bucket = self.buckets.entry(cluster.bucket()).or_default();
        bucket.insert(index, cluster.variables(), cluster.sequence, |p| {
            cluster.slots[p].key
        });
        for p in 1..cluster.slots.len() {
            if p != pos {
                self.siblings
                    .entry(cluster.context(p))
                    .or_default()
                    .push(index);
            }
        }
    }

    /// Take a live cluster out of its bucket.
    fn unbucket(&mut self, index: u32) {
        let cluster = &self.clusters[index as usize];
        if let Some(bucket) = self.buckets.get_mut(&cluster.bucket()) {
            bucket.remove(index, &cluster.variables(), cluster.sequence, |p| {
                cluster.slots[p].key
            });
        }
    }

    /// Merge live cluster `member` into live cluster `survivor`.
    fn absorb(&mut self, survivor: u32, member: u32) {
        self.unbucket(member);
        let (member_id, member_size) = {
            let m = &mut self.clusters[member as usize];
            m.merged_into = Some(survivor);
            (m.id(), m.size)
        };
        let survivor_cluster = &mut self.clusters[survivor as usize];
        survivor_cluster.size += member_size;
        let survivor_id = survivor_cluster.id();
        self.by_id.remove(&member_id);
        self.aliases.insert(member_id, survivor_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_variables_share_a_template() {
        let mut m = TemplateMiner::new();
        let a = m.add("Received block blk_1 of size 67108864 from /10.0.0.1");
        let b = m.add("Received block blk_-2 of size 12 from /10.0.0.2");
        assert_eq!(a, b);
        assert_eq!(
            m.template(a),
            Some("Received block <*> of size <*> from <*>")
        );
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn ids_are_hashes_of_template_text() {
        let mut m = TemplateMiner::new();
        let id = m.add("Accepted password for x from 1.2.3.4");
        assert_eq!(id, TemplateId::of("Accepted password for x from <*>"));
    }

    #[test]
    fn different_first_words_stay_apart() {
        let mut m = TemplateMiner::new();
        let ids: Vec<_> = [
            "boot (command 1)",
            "wait (command 2)",
            "halt (command 3)",
            "risBoot (command 4)",
            "kill (command 5)",
        ]
        .iter()
        .map(|l| m.add(l))
        .collect();
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert_ne!(m.resolve(*a), m.resolve(*b));
            }
        }
    }

    #[test]
    fn few_word_alternatives_stay_apart() {
        let mut m = TemplateMiner::new();
        let a = m.add("host:1 open through proxy p:1 HTTPS");
        let b = m.add("host:2 open through proxy p:2 SOCKS5");
        let c = m.add("host:3 open through proxy p:3 HTTPS");
        assert_eq!(a, c);
        assert_ne!(m.resolve(a), m.resolve(b));
    }

    #[test]
    fn many_word_values_become_a_variable_and_old_ids_alias() {
        let mut m = TemplateMiner::new();
        let users = ["root", "admin", "guest", "oracle", "test"];
        let ids: Vec<_> = users
            .iter()
            .map(|u| m.add(&format!("Invalid user {u} from 1.2.3.4")))
            .collect();
        let merged = TemplateId::of("Invalid user <*> from <*>");
        for id in &ids[..WORD_VARIABLE_EVIDENCE - 1] {
            assert_ne!(*id, merged);
            assert_eq!(m.resolve(*id), merged);
            assert_eq!(m.template(*id), Some("Invalid user <*> from <*>"));
        }
        assert_eq!(ids[WORD_VARIABLE_EVIDENCE - 1], merged);
        assert_eq!(ids[4], merged);
        assert_eq!(m.add("Invalid user nobody from 5.6.7.8"), merged);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn a_masked_value_makes_its_position_variable() {
        let mut m = TemplateMiner::new();
        let a = m.add("Failed none for invalid user admin from 1.2.3.4 port 5 ssh2");
        let b = m.add("Failed none for invalid user 0 from 1.2.3.4 port 6 ssh2");
        assert_eq!(m.resolve(a), b);
        assert_eq!(
            m.template(a),
            Some("Failed none for invalid user <*> from <*> port <*> ssh2")
        );
    }

    #[test]
    fn resolve_of_unknown_id_is_itself() {
        let m = TemplateMiner::new();
        assert_eq!(m.resolve(TemplateId(7)), TemplateId(7));
        assert_eq!(m.template(TemplateId(7)), None);
    }

    #[test]
    fn empty_message_has_a_template() {
        let mut m = TemplateMiner::new();
        let id = m.add("");
        assert_eq!(m.template(id), Some(""));
        assert_eq!(m.add("   "), id);
    }
}
