//! Values kept once per HTTP worker thread. actix-web runs each worker on its
//! own single-threaded runtime, and a connection's I/O task runs on the runtime
//! that opened it: a worker using a connection opened on another thread pays
//! cross-thread wake-ups on every request (a fifth of the server's time in
//! `perf` profiles of `callflow bench`). So the callback path's Redis
//! connection is opened per worker. (The REST client is not: a call places one
//! request, and building a client on a worker's first dial delayed that dial.)

use std::cell::RefCell;

use thread_local::ThreadLocal;

/// One `T` per thread, for one owner (each owner has its own slots, freed with it).
pub struct PerThread<T: Send>(ThreadLocal<RefCell<Option<T>>>);

impl<T: Send> Default for PerThread<T> {
    fn default() -> Self {
        Self(ThreadLocal::new())
    }
}

impl<T: Clone + Send> PerThread<T> {
    /// This thread's value, if it has one.
    pub fn get(&self) -> Option<T> {
        self.0.get().and_then(|slot| slot.borrow().clone())
    }

    /// Sets (or replaces) this thread's value.
    pub fn put(&self, value: T) {
        *self.0.get_or_default().borrow_mut() = Some(value);
    }
}

/// True on a single-threaded runtime (an HTTP worker), where a per-thread
/// value pays off; elsewhere tasks move between threads anyway.
pub fn on_worker_thread() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread)
}
