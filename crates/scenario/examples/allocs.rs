use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static LARGE: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        if layout.size() >= 1000 {
            LARGE.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        if size >= 1000 {
            LARGE.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, size) }
    }
}
#[global_allocator]
static GLOBAL: Counting = Counting;
fn main() {
    for name in ["quiet", "database"] {
        ALLOCS.store(0, Ordering::Relaxed);
        LARGE.store(0, Ordering::Relaxed);
        BYTES.store(0, Ordering::Relaxed);
        let day = faultline_scenario::generate(name, 1, &faultline_scenario::GenOptions::default())
            .unwrap();
        let n = day.events.len();
        println!(
            "{name}: {} events, {:.1} allocs/event, {} large, {:.0} bytes/event",
            n,
            ALLOCS.load(Ordering::Relaxed) as f64 / n as f64,
            LARGE.load(Ordering::Relaxed),
            BYTES.load(Ordering::Relaxed) as f64 / n as f64
        );
    }
}
