/*
 * core.h - the core timing model: an interval model, honest and simple.
 * (The model is being written; the configuration below is fixed.)
 *
 * JSON (the "core" object; keys = field names):
 *   "freq_mhz": 4000           the clock every cycle count is in
 *   "work_cycles": 1           non-memory work between two accesses
 *   "mlp": 10                  independent misses in flight at once
 *   "fault_entry_cycles": 250  exception entry (trap, swapgs, entry code)
 *   "fault_exit_cycles": 200   exception return (iret, restore)
 *   "kernel_cpi": 1.0          cycles per kernel instruction (beside its memory accesses)
 */
#ifndef SIMULATOR_CORE_H
#define SIMULATOR_CORE_H

#include <stdint.h>

struct core_config {
	uint32_t freq_mhz;
	uint32_t work_cycles;
	uint32_t mlp;
	uint32_t fault_entry_cycles;
	uint32_t fault_exit_cycles;
	double kernel_cpi;
};

#endif
