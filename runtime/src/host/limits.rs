//! A memory limiter that remembers when it refused, so that a failed call can be
//! reported as "memory limit exceeded" rather than as whatever trap followed.

use wasmtime::ResourceLimiter;

#[derive(Debug)]
pub struct MemoryLimiter {
    max_memory: usize,
    /// Largest memory size granted, for metrics.
    pub(crate) peak: usize,
    /// A growth was refused.
    pub(crate) denied: bool,
}

impl MemoryLimiter {
    pub fn new(max_memory: usize) -> Self {
        Self {
            max_memory,
            peak: 0,
            denied: false,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_memory {
            self.denied = true;
            // Trap rather than let the guest see a failed grow: guests abort on
            // allocation failure anyway, and a trap is reported precisely.
            return Err(wasmtime::format_err!(
                "memory limit exceeded: {desired} bytes requested, {} allowed",
                self.max_memory
            ));
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}
