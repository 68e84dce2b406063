//! What was asked and served, per vendor: the basis of `GET /__sim/served`.

use std::collections::{BTreeMap, HashSet};

use parking_lot::Mutex;
use serde::Serialize;

use crate::config::Vendor;

/// Counters of one vendor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct VendorServed {
    /// Distinct items that exist up to the simulated now (each becomes one stored event).
    pub exists: usize,
    /// Distinct items delivered at least once in a complete, unfaulted response.
    pub served_distinct: usize,
    pub requests: u64,
    pub faults_injected: u64,
    pub complete: bool,
}

/// The `/__sim/served` report: one entry per vendor, their total, and whether every existing
/// item was served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Served {
    #[serde(flatten)]
    pub vendors: BTreeMap<Vendor, VendorServed>,
    pub total: VendorServed,
    pub complete: bool,
}

impl Served {
    pub fn vendor(&self, vendor: Vendor) -> VendorServed {
        self.vendors.get(&vendor).copied().unwrap_or_default()
    }
}

#[derive(Default)]
struct Book {
    requests: u64,
    faults: u64,
    served: HashSet<String>,
}

/// Request, fault and delivery counts of every vendor.
#[derive(Default)]
pub(crate) struct Ledger {
    books: [Mutex<Book>; 5],
}

impl Ledger {
    pub(crate) fn request(&self, vendor: Vendor) {
        self.books[vendor.index()].lock().requests += 1;
    }

    pub(crate) fn fault(&self, vendor: Vendor) {
        self.books[vendor.index()].lock().faults += 1;
    }

    pub(crate) fn delivered(&self, vendor: Vendor, keys: Vec<String>) {
        self.books[vendor.index()].lock().served.extend(keys);
    }

    /// The report, given the keys of the items of each vendor that exist now. An item served
    /// earlier that no longer shows (a monitor state since replaced) still counts as existing.
    pub(crate) fn report(&self, existing: impl Fn(Vendor) -> Vec<String>) -> Served {
        let mut vendors = BTreeMap::new();
        let mut total = VendorServed {
            complete: true,
            ..VendorServed::default()
        };
        for vendor in Vendor::ALL {
            let now = existing(vendor);
            let book = self.books[vendor.index()].lock();
            let missing = now.iter().filter(|key| !book.served.contains(*key)).count();
            let entry = VendorServed {
                exists: book.served.len() + missing,
                served_distinct: book.served.len(),
                requests: book.requests,
                faults_injected: book.faults,
                complete: missing == 0,
            };
            total.exists += entry.exists;
            total.served_distinct += entry.served_distinct;
            total.requests += entry.requests;
            total.faults_injected += entry.faults_injected;
            total.complete &= entry.complete;
            vendors.insert(vendor, entry);
        }
        Served {
            vendors,
            total,
            complete: total.complete,
        }
    }
}
