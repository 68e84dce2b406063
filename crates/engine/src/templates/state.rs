//! Serializable miner state.

use super::id::TemplateId;
use super::miner::{Cluster, Slot};
use serde::{Deserialize, Serialize};

/// Version of the [`MinerState`] layout.
pub const STATE_VERSION: u32 = 1;

/// Everything a [`super::TemplateMiner`] knows, in a serde-serializable form.
/// Restoring it with [`super::TemplateMiner::from_state`] gives a miner that
/// behaves exactly like the one it was taken from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinerState {
    pub version: u32,
    /// All templates ever made, live and merged, in creation order.
    pub clusters: Vec<ClusterState>,
    /// Old template id → newer id, sorted.
    pub aliases: Vec<(TemplateId, TemplateId)>,
    /// Masked-message hash → index into `clusters`, sorted.
    pub memo: Vec<(u64, u32)>,
}

/// One template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterState {
    pub slots: Vec<SlotState>,
    /// Messages assigned to it (including those of merged templates).
    pub size: u64,
    /// Index of the template this one was merged into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<u32>,
}

/// One position of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotState {
    /// Template text at this position.
    pub text: String,
    /// Hash of the token text the position matches.
    pub key: u64,
    /// The position accepts any token.
    pub variable: bool,
}

impl ClusterState {
    pub(crate) fn from_cluster(cluster: &Cluster) -> Self {
        let slots = cluster
            .slots
            .iter()
            .zip(&cluster.texts)
            .map(|(slot, text)| SlotState {
                text: text.clone(),
                key: slot.key,
                variable: slot.variable,
            })
            .collect();
        ClusterState {
            slots,
            size: cluster.size,
            merged_into: cluster.merged_into,
        }
    }

    pub(crate) fn into_cluster(self) -> Cluster {
        let (slots, texts) = self
            .slots
            .into_iter()
            .map(|s| {
                (
                    Slot {
                        key: s.key,
                        variable: s.variable,
                    },
                    s.text,
                )
            })
            .unzip();
        Cluster::new(slots, texts, self.size, self.merged_into)
    }
}
