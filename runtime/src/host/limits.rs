//! The memory limiter of one store, and so of one component instance (a store runs
//! one call of one component): every linear memory and every table of the instance
//! counts against one budget, from their creation (Wasmtime asks the limiter for
//! their initial size too) to their last growth. It remembers when it refused, so
//! that a failed call is reported as "memory limit exceeded" rather than as
//! whatever trap followed.

use wasmtime::ResourceLimiter;

/// Host bytes per table element (Wasmtime keeps a pointer per element).
const TABLE_ELEMENT_BYTES: usize = std::mem::size_of::<usize>();
/// Most core instances, memories and tables one component instance may create,
/// as the pooling allocator allows (`wasm::engine`): the same whatever the allocator.
pub(crate) const MAX_CORE_INSTANCES: usize = 32;
pub(crate) const MAX_MEMORIES: usize = 4;
pub(crate) const MAX_TABLES: usize = 8;

#[derive(Debug)]
pub struct MemoryLimiter {
    max_bytes: usize,
    /// Bytes granted so far to the memories and tables of the instance.
    used: usize,
    /// Largest `used`, for metrics.
    pub(crate) peak: usize,
    /// A growth was refused.
    pub(crate) denied: bool,
}

impl MemoryLimiter {
    pub fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            used: 0,
            peak: 0,
            denied: false,
        }
    }

    /// Grants `more` bytes when the instance's total stays within the budget;
    /// otherwise traps (guests abort on allocation failure anyway, and a trap is
    /// reported precisely).
    fn grant(&mut self, what: &str, more: usize) -> wasmtime::Result<bool> {
        let total = self.used.saturating_add(more);
        if total > self.max_bytes {
            self.denied = true;
            return Err(wasmtime::format_err!(
                "memory limit exceeded: growing a {what} would bring the instance to \
                 {total} bytes of memories and tables, {} allowed",
                self.max_bytes
            ));
        }
        self.used = total;
        self.peak = self.peak.max(total);
        Ok(true)
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grant("memory", desired.saturating_sub(current))
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let more = desired
            .saturating_sub(current)
            .saturating_mul(TABLE_ELEMENT_BYTES);
        self.grant("table", more)
    }

    fn instances(&self) -> usize {
        MAX_CORE_INSTANCES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn memories_and_tables_of_an_instance_share_one_budget() {
        let mut limiter = MemoryLimiter::new(10 * MIB);
        assert!(limiter.memory_growing(0, 4 * MIB, None).unwrap());
        assert!(limiter.memory_growing(0, 4 * MIB, None).unwrap());
        // A third memory of 4 MiB fits alone but not beside the other two.
        assert!(limiter.memory_growing(0, 4 * MIB, None).is_err());
        assert!(limiter.denied);
        assert_eq!(limiter.peak, 8 * MIB);
    }

    #[test]
    fn growth_counts_the_difference_and_tables_count_their_elements() {
        let mut limiter = MemoryLimiter::new(2 * MIB);
        assert!(limiter.memory_growing(0, MIB, None).unwrap());
        assert!(limiter.memory_growing(MIB, MIB + MIB / 2, None).unwrap());
        // 131,072 elements of 8 bytes: exactly the last half MiB.
        let elements = MIB / 2 / TABLE_ELEMENT_BYTES;
        assert!(limiter.table_growing(0, elements, None).unwrap());
        assert!(limiter.table_growing(elements, elements + 1, None).is_err());
    }
}
