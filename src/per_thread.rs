//! Values kept once per HTTP worker thread. actix-web runs each worker on its
//! own single-threaded runtime, and a connection's I/O task runs on the runtime
//! that opened it: a worker using a connection opened on another thread pays
//! cross-thread wake-ups on every request (a fifth of the server's time in
//! `perf` profiles of `callflow bench`). So the callback path's Redis
//! connection is opened per worker. (The REST client is not: a call places one
//! request, and building a client on a worker's first dial delayed that dial.)

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    static SLOTS: RefCell<Vec<(u64, Box<dyn Any>)>> = const { RefCell::new(Vec::new()) };
}

/// One `T` per thread, for one owner (each owner has its own slot).
pub struct PerThread<T> {
    id: u64,
    _value: PhantomData<fn() -> T>,
}

impl<T: Clone + 'static> Default for PerThread<T> {
    fn default() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            _value: PhantomData,
        }
    }
}

impl<T: Clone + 'static> PerThread<T> {
    /// This thread's value, if it has one.
    pub fn get(&self) -> Option<T> {
        SLOTS.with(|s| {
            s.borrow()
                .iter()
                .find(|(id, _)| *id == self.id)
                .and_then(|(_, v)| v.downcast_ref::<T>().cloned())
        })
    }

    pub fn put(&self, value: T) {
        SLOTS.with(|s| {
            let mut s = s.borrow_mut();
            s.retain(|(id, _)| *id != self.id);
            s.push((self.id, Box::new(value)));
        });
    }
}

/// True on a single-threaded runtime (an HTTP worker), where a per-thread
/// value pays off; elsewhere tasks move between threads anyway.
pub fn on_worker_thread() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread)
}
